/** Every error the store raises; each carries a stable string `code`. */
export { StoreError } from './store-error';
export { StoreUnavailableError } from './store-unavailable-error';
export { NotFoundError } from './not-found-error';
export { ConflictError, type ConflictCode } from './conflict-error';
export { InvalidValueError, type InvalidValueCode } from './invalid-value-error';
export { CorruptRecordError } from './corrupt-record-error';
