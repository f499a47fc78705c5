import { StoreError } from './store-error';

/** The codes an {@link InvalidValueError} carries. */
export type InvalidValueCode = 'invalid-id' | 'invalid-phone' | 'invalid-email' | 'invalid-date';

/**
 * A value cannot be stored as given: an id that would break the key layout, a phone number or email
 * address that does not normalise, a timestamp that is not an ISO instant. The gateway maps it to 422.
 */
export class InvalidValueError extends StoreError {
  declare readonly code: InvalidValueCode;

  constructor(code: InvalidValueCode, message: string) {
    super(code, message);
  }
}
