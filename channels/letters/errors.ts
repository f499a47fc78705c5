/**
 * Typed errors of the letters channel. Each carries a stable string `code`. `extractLetterText` never throws
 * them at its callers — it turns every failure into a result flagged for a manual word count — but the
 * lower-level modules (`pdf-text`, `ocr`) do, so a caller that uses them directly can tell the cases apart.
 */

/** The base of the letters channel's errors. */
export class LetterError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A PDF could not be opened or read (corrupt, encrypted, or it exhausted the reader's memory). */
export class PdfUnreadableError extends LetterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('pdf-unreadable', message, options);
  }
}

/** Reading a PDF took longer than its time limit; the reader thread was stopped. */
export class PdfTimeoutError extends LetterError {
  constructor(readonly timeoutMs: number) {
    super('pdf-timeout', `reading the PDF did not finish within ${timeoutMs} ms`);
  }
}

/** OCR took longer than its time limit; the OCR worker was terminated. */
export class OcrTimeoutError extends LetterError {
  constructor(readonly timeoutMs: number) {
    super('ocr-timeout', `OCR did not finish within ${timeoutMs} ms`);
  }
}

/** The OCR engine failed (could not start, or could not decode the image). */
export class OcrFailedError extends LetterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ocr-failed', message, options);
  }
}
