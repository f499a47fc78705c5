/**
 * Text from PDFs that have a text layer (typed letters, or scans the bureau already OCR'd), read with unpdf
 * (PDF.js) in a worker thread of its own — see `pdf-worker-script.ts` for why — under a page limit and a
 * time limit. The same open reader also hands out a page's images, so that `extract.ts` can OCR the pages
 * that turned out to be scans without parsing the PDF twice.
 */
import { inflatedSizeWithin } from './pdf-inflation';
import { Worker } from 'node:worker_threads';

import { PdfTimeoutError, PdfUnreadableError } from './errors';
import { PDF_WORKER_SCRIPT } from './pdf-worker-script';
import type { RawImage } from './raster';

/** Pages read from one PDF unless told otherwise. */
export const DEFAULT_MAX_PAGES = 20;
/** Time allowed for reading one letter unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 20_000;
/** Heap cap of the reader thread unless told otherwise. */
export const DEFAULT_MAX_MEMORY_MB = 512;

/** Limits on reading one PDF. */
export interface PdfLimits {
  /** Pages read from the start of the document; the rest are not read. Default {@link DEFAULT_MAX_PAGES}. */
  maxPages?: number;
  /** Time from opening until `close()`, after which the reader thread is stopped. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Heap cap of the reader thread in MiB. Default {@link DEFAULT_MAX_MEMORY_MB}. */
  maxMemoryMb?: number;
}

/** The text layer of one page. */
export interface PdfPageText {
  /** 1-based page number. */
  number: number;
  text: string;
}

/** What `extractPdfText` returns. */
export interface PdfTextResult {
  /** The pages read, joined by a blank line. */
  text: string;
  pages: PdfPageText[];
  /** Pages in the document, read or not. */
  totalPages: number;
  /** True when the document has more pages than were read. */
  truncated: boolean;
}

type WorkerReply =
  | { type: 'text'; totalPages: number; pages: string[] }
  | { type: 'images'; page: number; images: RawImage[] }
  | { type: 'error'; name: string; message: string };

interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
}

/** unpdf's CommonJS entry; the thread loads it by absolute path, so it resolves the same wherever it runs. */
function unpdfEntry(): string {
  return require.resolve('unpdf');
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${what} must be a positive number, got ${String(value)}`);
  return v;
}

/**
 * An open PDF: its text layer, read at `open`, and its page images on demand. Always `close()` it (the
 * thread holds the parsed document); after the time limit the thread is stopped and every call rejects
 * with {@link PdfTimeoutError}.
 */
export class PdfReader {
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly worker: Worker,
    readonly timeoutMs: number,
  ) {
    this.timer = setTimeout(() => this.fail(new PdfTimeoutError(timeoutMs)), timeoutMs);
    // The reader must never be what keeps a process alive.
    this.timer.unref();
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (error: Error) => this.fail(new PdfUnreadableError(`the PDF reader failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.fail(new PdfUnreadableError(`the PDF reader stopped (exit code ${code})`)));
  }

  /** Pages in the document, read or not. */
  totalPages = 0;
  /** The text layer of the pages read (at most `maxPages`). */
  pages: PdfPageText[] = [];

  /** True when the document has more pages than were read. */
  get truncated(): boolean {
    return this.totalPages > this.pages.length;
  }

  /**
   * Opens a PDF and reads the text layer of its first `maxPages` pages.
   *
   * @throws {PdfUnreadableError} when the bytes are not a PDF PDF.js can open (corrupt, password-protected).
   * @throws {PdfTimeoutError} when it takes longer than `timeoutMs`.
   */
  static async open(data: Uint8Array, limits: PdfLimits = {}): Promise<PdfReader> {
    const maxPages = Math.floor(positive(limits.maxPages, DEFAULT_MAX_PAGES, 'maxPages'));
    const timeoutMs = positive(limits.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
    const maxMemoryMb = positive(limits.maxMemoryMb, DEFAULT_MAX_MEMORY_MB, 'maxMemoryMb');
    if (inflatedSizeWithin(data) === undefined) {
      throw new PdfUnreadableError('the PDF inflates to more than a letter can (a compression bomb?): it needs a person');
    }
    const worker = new Worker(PDF_WORKER_SCRIPT, {
      eval: true,
      workerData: { unpdfPath: unpdfEntry() },
      resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb },
    });
    const reader = new PdfReader(worker, timeoutMs);
    try {
      // A copy, so that transferring it to the thread cannot detach the caller's buffer (or Node's shared pool).
      const copy = new Uint8Array(data);
      const reply = await reader.request({ type: 'open', data: copy, maxPages }, [copy.buffer]);
      if (reply.type !== 'text') throw new PdfUnreadableError(`unexpected reply ${reply.type} from the PDF reader`);
      reader.totalPages = reply.totalPages;
      reader.pages = reply.pages.map((text, i) => ({ number: i + 1, text: text.trim() }));
      return reader;
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  /**
   * The images painted on one page, decoded (whatever the PDF's compression). A scanned page is usually
   * exactly one image covering the page.
   */
  async pageImages(pageNumber: number): Promise<RawImage[]> {
    if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > this.totalPages) {
      throw new RangeError(`page ${pageNumber} is not in this PDF (1–${this.totalPages})`);
    }
    const reply = await this.request({ type: 'images', page: pageNumber }, []);
    if (reply.type !== 'images') throw new PdfUnreadableError(`unexpected reply ${reply.type} from the PDF reader`);
    return reply.images;
  }

  /** Stops the reader thread. Safe to call more than once. */
  async close(): Promise<void> {
    this.fail(new PdfUnreadableError('the PDF reader is closed'));
    await this.worker.terminate();
  }

  /** Sends one request once the previous one has been answered. */
  private request(message: object, transfer: ArrayBuffer[]): Promise<WorkerReply> {
    const run = this.queue.then(
      () =>
        new Promise<WorkerReply>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.pending = { resolve, reject };
          this.worker.postMessage(message, transfer);
        }),
    );
    this.queue = run.catch(() => undefined);
    return run.then((reply) => {
      if (reply.type === 'error') {
        const why = reply.name === 'PasswordException' ? 'the PDF is password-protected' : reply.message;
        throw new PdfUnreadableError(`the PDF could not be read: ${why}`);
      }
      return reply;
    });
  }

  private settle(reply: WorkerReply): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(reply);
  }

  /** Ends the reader for good: the pending request and every later one reject with `error`. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    clearTimeout(this.timer);
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
    void this.worker.terminate();
  }
}

/**
 * Reads the text layer of a PDF: at most `maxPages` pages, within `timeoutMs`. Pages without a text layer
 * (scans) come back empty — `extractLetterText` is the function that OCRs them.
 *
 * @throws {PdfUnreadableError} for bytes PDF.js cannot open.
 * @throws {PdfTimeoutError} when reading takes longer than the limit.
 */
export async function extractPdfText(data: Uint8Array, limits: PdfLimits = {}): Promise<PdfTextResult> {
  const reader = await PdfReader.open(data, limits);
  try {
    return {
      text: reader.pages.map((p) => p.text).join('\n\n'),
      pages: reader.pages,
      totalPages: reader.totalPages,
      truncated: reader.truncated,
    };
  } finally {
    await reader.close();
  }
}
