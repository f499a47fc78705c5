/**
 * Typed refusals of the domain rules. The gateway maps `kind` to an HTTP status and returns `code` as
 * `error.code`, so both are stable strings that clients may switch on.
 */
export type RuleErrorKind = 'invalid' | 'forbidden' | 'conflict' | 'not-found';

/** A domain rule refused something: invalid → 422, forbidden → 403, conflict → 409, not-found → 404. */
export class RuleError extends Error {
  override readonly name = 'RuleError';
  constructor(
    readonly code: string,
    message: string,
    readonly kind: RuleErrorKind = 'invalid',
  ) {
    super(message);
  }
}

/** Shorthand for a 422-style refusal. */
export function invalid(code: string, message: string): RuleError {
  return new RuleError(code, message, 'invalid');
}

/** Shorthand for a 403-style refusal (separation of duties). */
export function forbidden(code: string, message: string): RuleError {
  return new RuleError(code, message, 'forbidden');
}

/** Shorthand for a 409-style refusal (wrong state for the action). */
export function conflict(code: string, message: string): RuleError {
  return new RuleError(code, message, 'conflict');
}
