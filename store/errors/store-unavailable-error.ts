import { StoreError } from './store-error';

/**
 * Redis could not be asked in time: refused, reset, timed out, failing over, loading, or out of memory.
 * Callers degrade (calls proceed flagged `restriction-check-unavailable`; SMTP answers 4xx; ingest 503)
 * rather than lose a message. The original client error is kept as `cause` for logs.
 */
export class StoreUnavailableError extends StoreError {
  constructor(cause: unknown) {
    super('store-unavailable', 'The restriction store is unavailable', { cause });
  }
}
