import { StoreError } from './store-error';

/** A mutation named a record that does not exist. Reads return `undefined` instead of throwing. */
export class NotFoundError extends StoreError {
  readonly entity: string;
  readonly entityId: string;

  constructor(entity: string, entityId: string) {
    super('not-found', `No ${entity} with that id`);
    this.entity = entity;
    this.entityId = entityId;
  }
}
