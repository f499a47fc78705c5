import { StoreError } from './store-error';

/** The codes a {@link ConflictError} carries. */
export type ConflictCode = 'concurrent-update' | 'already-exists';

/**
 * A write lost a race or would overwrite something: `concurrent-update` when the record changed since it
 * was read (reload and retry), `already-exists` when creating a record whose id is taken.
 */
export class ConflictError extends StoreError {
  declare readonly code: ConflictCode;

  constructor(code: ConflictCode, message: string) {
    super(code, message);
  }
}
