import { StoreError } from './store-error';

/** A stored value is not the JSON the store wrote: someone edited Redis by hand, or a bug. Never retried. */
export class CorruptRecordError extends StoreError {
  readonly key: string;

  constructor(key: string, cause: unknown) {
    super('corrupt-record', 'A stored record could not be read', { cause });
    this.key = key;
  }
}
