/**
 * The text of a scanned letter, whatever the bureau sent: a PDF with a text layer is read directly, pages
 * that are only images (scans) are OCR'd, image attachments are OCR'd. When the text cannot be had — or can
 * be had only in part — the result says `needsManualCount: true`, so that a person counts the words: a
 * letter is never counted as zero words, or fewer than it has, because a machine could not read it.
 */
import { LetterError } from './errors';
import { detectFileType, OCR_IMAGE_TYPES, splitTiffPages } from './file-type';
import { OcrEngine, type OcrPage } from './ocr';
import { DEFAULT_MAX_PAGES, DEFAULT_TIMEOUT_MS, PdfReader } from './pdf-text';
import { rawImageToPgm, type RawImage } from './raster';

/** Below this many letters and digits a PDF page is treated as a scan and its images are OCR'd. */
export const DEFAULT_MIN_PAGE_CHARS = 20;
/** Below this mean OCR confidence (0–100) the text is kept but the word count is not trusted. */
export const DEFAULT_MIN_OCR_CONFIDENCE = 60;
/** Images smaller than this on either side are logos or specks, not pages worth OCR. */
const MIN_IMAGE_SIDE = 32;
/** At most this many images of one page are OCR'd (the largest), so a PDF of a thousand fragments cannot stall OCR. */
const MAX_IMAGES_PER_PAGE = 8;

/** A file attached to the bureau's email. */
export interface LetterAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** Limits on reading one letter. */
export interface LetterLimits {
  /** Pages read (PDF pages or TIFF pages). Default {@link DEFAULT_MAX_PAGES}. */
  maxPages?: number;
  /** Time for the whole letter, PDF reading and OCR together. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** See {@link DEFAULT_MIN_PAGE_CHARS}. */
  minPageChars?: number;
  /** See {@link DEFAULT_MIN_OCR_CONFIDENCE}. */
  minOcrConfidence?: number;
}

/** Collaborators of `extractLetterText`. */
export interface LetterExtractionDeps {
  /**
   * A long-lived OCR engine to use (and leave running). Without one, an engine is started for the call and
   * terminated after it, which costs about half a second per letter that needs OCR.
   */
  ocr?: OcrEngine;
}

/** Why a letter's text is missing or incomplete. */
export type ExtractionProblem =
  | 'unsupported-type'
  | 'pdf-unreadable'
  | 'pdf-timeout'
  | 'page-limit'
  | 'ocr-timeout'
  | 'ocr-failed'
  | 'ocr-low-confidence'
  | 'no-text';

/** The text of a letter and how far it can be trusted. */
export interface LetterText {
  /** The text, page by page, pages separated by a blank line. */
  text: string;
  /** `ocr` when any of the text came from OCR; `none` when there is no text. */
  method: 'pdf-text' | 'ocr' | 'none';
  /** Pages whose text was read. */
  pages: number;
  /**
   * True when the machine's word count would be wrong: no text, text missing from some pages (page limit,
   * time limit, OCR failure) or OCR too unsure of what it read. The text, if any, is still worth using for
   * emergency detection and the customer reference.
   */
  needsManualCount: boolean;
  /** Pages in the document (1 for a single image); more than `pages` when some were not read. */
  totalPages: number;
  /** True when the document had more pages than the limit allowed to be read. */
  truncated: boolean;
  /** Every reason the text is missing or incomplete; empty when it is complete. */
  problems: ExtractionProblem[];
  /** Mean OCR confidence (0–100) over the OCR'd text, weighted by its length; absent when no OCR ran. */
  ocrConfidence?: number;
}

/** Every problem makes the machine's word count untrustworthy; the set also tells our error codes apart. */
const PROBLEMS: ReadonlySet<string> = new Set<ExtractionProblem>([
  'unsupported-type',
  'pdf-unreadable',
  'pdf-timeout',
  'page-limit',
  'ocr-timeout',
  'ocr-failed',
  'ocr-low-confidence',
  'no-text',
]);

const isProblem = (code: string): code is ExtractionProblem => PROBLEMS.has(code);
const alphanumerics = (text: string): number => (text.match(/[\p{L}\p{N}]/gu) ?? []).length;

/** Collects a letter's text page by page, and what went wrong. */
class Collector {
  readonly texts: string[] = [];
  readonly problems = new Set<ExtractionProblem>();
  readonly ocrPages: OcrPage[] = [];
  pagesRead = 0;
  totalPages = 0;

  constructor(private readonly deadline: number) {}

  remainingMs(): number {
    return this.deadline - Date.now();
  }

  /**
   * Records a failure as a problem (`otherwise` for errors that are not ours, i.e. a library's surprise);
   * returns true when the letter's time is up, so reading must stop.
   */
  fail(error: unknown, otherwise: ExtractionProblem): boolean {
    const problem = error instanceof LetterError && isProblem(error.code) ? error.code : otherwise;
    this.problems.add(problem);
    return problem === 'pdf-timeout' || problem === 'ocr-timeout';
  }
}

/** What became of one image sent to OCR. */
type OcrOutcome = { kind: 'read'; text: string } | { kind: 'failed' } | { kind: 'stop' };

async function ocrOne(collector: Collector, engine: OcrEngine, image: Buffer): Promise<OcrOutcome> {
  try {
    const page = await engine.recognize(image, collector.remainingMs());
    collector.ocrPages.push(page);
    return { kind: 'read', text: page.text };
  } catch (error) {
    return collector.fail(error, 'ocr-failed') ? { kind: 'stop' } : { kind: 'failed' };
  }
}

/** Chooses the images of a scanned page worth OCR: big enough, largest first, at most a few. */
function pageImagesForOcr(images: RawImage[]): RawImage[] {
  return images
    .filter((i) => i.width >= MIN_IMAGE_SIDE && i.height >= MIN_IMAGE_SIDE)
    .sort((a, b) => b.width * b.height - a.width * a.height)
    .slice(0, MAX_IMAGES_PER_PAGE);
}

async function readPdf(content: Buffer, collector: Collector, limits: Required<LetterLimits>, engine: () => OcrEngine): Promise<void> {
  let reader: PdfReader;
  try {
    reader = await PdfReader.open(content, { maxPages: limits.maxPages, timeoutMs: Math.max(1, collector.remainingMs()) });
  } catch (error) {
    collector.fail(error, 'pdf-unreadable');
    return;
  }
  try {
    collector.totalPages = reader.totalPages;
    if (reader.truncated) collector.problems.add('page-limit');
    for (const page of reader.pages) {
      if (alphanumerics(page.text) >= limits.minPageChars) {
        collector.texts.push(page.text);
        collector.pagesRead++;
        continue;
      }
      // Too little text for a page of a letter: a scan (perhaps with a bureau's stamp in a text layer).
      let images: RawImage[];
      try {
        images = pageImagesForOcr(await reader.pageImages(page.number));
      } catch (error) {
        if (collector.fail(error, 'pdf-unreadable')) return;
        continue;
      }
      const ocrTexts: string[] = [];
      let complete = true;
      for (const image of images) {
        const outcome = await ocrOne(collector, engine(), rawImageToPgm(image));
        if (outcome.kind === 'stop') return;
        if (outcome.kind === 'failed') complete = false;
        else if (outcome.text) ocrTexts.push(outcome.text);
      }
      // No images and (almost) no text is a blank page — the back of a duplex scan — and reads as such.
      const text = ocrTexts.length > 0 ? ocrTexts.join('\n') : page.text;
      if (text) collector.texts.push(text);
      if (complete) collector.pagesRead++;
    }
  } finally {
    await reader.close();
  }
}

async function readImage(content: Buffer, isTiff: boolean, collector: Collector, maxPages: number, engine: () => OcrEngine): Promise<void> {
  const { pages, totalPages } = isTiff ? splitTiffPages(content, maxPages) : { pages: [content], totalPages: 1 };
  collector.totalPages = totalPages;
  if (totalPages > pages.length) collector.problems.add('page-limit');
  for (const page of pages) {
    const outcome = await ocrOne(collector, engine(), page);
    if (outcome.kind === 'stop') return;
    if (outcome.kind === 'read') {
      if (outcome.text) collector.texts.push(outcome.text);
      collector.pagesRead++;
    }
  }
}

/** The confidence of the OCR'd text as a whole: pages with more text weigh more. */
function meanConfidence(pages: OcrPage[]): number | undefined {
  const weighted = pages.filter((p) => p.text.length > 0);
  if (weighted.length === 0) return undefined;
  const total = weighted.reduce((n, p) => n + p.text.length, 0);
  return weighted.reduce((sum, p) => sum + p.confidence * p.text.length, 0) / total;
}

/**
 * Reads the text of a scanned letter.
 *
 * - PDF: the text layer of each page (up to `maxPages`); a page with (almost) no text is a scan, and the
 *   images on it are OCR'd.
 * - PNG, JPEG, TIFF (each page, up to `maxPages`), BMP, WebP: OCR.
 * - Anything else: no text, `needsManualCount`.
 *
 * Never throws for a bad attachment: every failure becomes a `problems` entry and `needsManualCount: true`.
 * The whole letter — PDF parsing and OCR — shares one time limit.
 *
 * @throws {RangeError} only for invalid `limits` (a caller's bug).
 */
export async function extractLetterText(
  attachment: LetterAttachment,
  limits: LetterLimits = {},
  deps: LetterExtractionDeps = {},
): Promise<LetterText> {
  const resolved: Required<LetterLimits> = {
    maxPages: limits.maxPages ?? DEFAULT_MAX_PAGES,
    timeoutMs: limits.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    minPageChars: limits.minPageChars ?? DEFAULT_MIN_PAGE_CHARS,
    minOcrConfidence: limits.minOcrConfidence ?? DEFAULT_MIN_OCR_CONFIDENCE,
  };
  for (const [name, value] of Object.entries(resolved)) {
    // Bad limits are a bug in the caller, not a property of the letter: say so rather than flag the letter.
    if (!Number.isFinite(value) || value < 0 || (name !== 'minPageChars' && name !== 'minOcrConfidence' && value === 0)) {
      throw new RangeError(`${name} must be a positive number, got ${value}`);
    }
  }
  const collector = new Collector(Date.now() + resolved.timeoutMs);
  let ownEngine: OcrEngine | undefined;
  const engine = (): OcrEngine => deps.ocr ?? (ownEngine ??= new OcrEngine());

  try {
    const type = detectFileType(attachment);
    if (type === 'pdf') {
      await readPdf(attachment.content, collector, resolved, engine);
    } else if (type && OCR_IMAGE_TYPES.includes(type)) {
      await readImage(attachment.content, type === 'tiff', collector, resolved.maxPages, engine);
    } else {
      collector.problems.add('unsupported-type');
    }
  } finally {
    await ownEngine?.terminate();
  }

  const text = collector.texts.join('\n\n').trim();
  const ocrConfidence = meanConfidence(collector.ocrPages);
  const usedOcr = collector.ocrPages.some((p) => p.text.length > 0);
  if (usedOcr && ocrConfidence !== undefined && ocrConfidence < resolved.minOcrConfidence) {
    collector.problems.add('ocr-low-confidence');
  }
  if (alphanumerics(text) === 0) collector.problems.add('no-text');
  const problems = [...collector.problems];
  return {
    text,
    method: alphanumerics(text) === 0 ? 'none' : usedOcr ? 'ocr' : 'pdf-text',
    pages: collector.pagesRead,
    // Every problem means text is missing or unsure, so the machine's count would understate the letter.
    needsManualCount: problems.length > 0,
    totalPages: collector.totalPages,
    truncated: collector.problems.has('page-limit'),
    problems,
    ...(ocrConfidence === undefined ? {} : { ocrConfidence: Math.round(ocrConfidence) }),
  };
}
