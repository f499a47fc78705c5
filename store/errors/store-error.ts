/**
 * The base of every error the store raises. `code` is stable and machine-readable: the gateway returns it
 * as `error.code`, and callers branch on it rather than on `instanceof` across module boundaries.
 */
export class StoreError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // The subclass's name, so logs and `toString()` say `ConflictError: …` rather than `Error: …`.
    this.name = new.target.name;
  }
}
