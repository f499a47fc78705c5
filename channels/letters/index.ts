/**
 * The letters channel: paper letters scanned by a bureau and emailed in as PDFs or images, and the letters we
 * print and post back.
 *
 * Inbound: `extractLetterText` reads a letter's text (PDF text layer, else local OCR), with page and time
 * limits, and flags it for a manual word count when the text cannot be had in full; `findCustomerReference`
 * finds the customer it is from. Outbound: `renderLetterPdf` / `renderLetterText` lay out the letters whose
 * words `config/letter-templates.ts` writes (workers/notification-letters.ts puts a restriction's measures
 * into plain English for them). Like every channel adapter, it translates and never decides.
 */
export { LetterError, OcrFailedError, OcrTimeoutError, PdfTimeoutError, PdfUnreadableError } from './errors';
export {
  DEFAULT_MIN_OCR_CONFIDENCE,
  DEFAULT_MIN_PAGE_CHARS,
  extractLetterText,
  type ExtractionProblem,
  type LetterAttachment,
  type LetterExtractionDeps,
  type LetterLimits,
  type LetterText,
} from './extract';
export { detectFileType, type LetterFileType } from './file-type';
export { BODY_PT, renderLetterPdf, renderLetterText, type Letter } from './letter-pdf';
export { OcrEngine, type OcrEngineOptions, type OcrPage } from './ocr';
export { DEFAULT_MAX_PAGES, DEFAULT_TIMEOUT_MS, extractPdfText, PdfReader, type PdfLimits, type PdfTextResult } from './pdf-text';
export { DEFAULT_CUSTOMER_REFERENCE, findCustomerReference, findCustomerReferences } from './reference';
