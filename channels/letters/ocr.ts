/**
 * Local OCR with tesseract.js and the English model installed from npm (`@tesseract.js-data/eng`).
 *
 * Nothing is fetched at run time: tesseract.js's Node worker script and its WebAssembly core are loaded from
 * `node_modules` by `require`, and `langPath` is a folder on disk (tesseract.js reads a local path with
 * `fs`, and only fetches when it is given a URL or nothing at all — then it would go to a CDN, which is why
 * the path is always set here). `cacheMethod: 'none'` stops it writing a copy of the 10 MB model into the
 * working directory.
 *
 * One engine holds one tesseract worker thread (about 0.4 s to start, then reused) and runs one image at a
 * time. Each call has a time limit; when it passes, the worker is terminated — the only way to stop
 * WebAssembly mid-page — and the next call starts a fresh one.
 */
import path from 'node:path';

import { createWorker, OEM, PSM, type Worker as TesseractWorker } from 'tesseract.js';

import { OcrFailedError, OcrTimeoutError } from './errors';

/** How long `terminate()` waits for a worker that is still starting before giving up on it. */
const TERMINATE_WAIT_MS = 5_000;

/** Options of an {@link OcrEngine}. */
export interface OcrEngineOptions {
  /** Language code(s) for tesseract, e.g. `eng`. Default `eng`. */
  lang?: string;
  /** Folder holding `<lang>.traineddata.gz`. Default: the folder of the installed `@tesseract.js-data/eng`. */
  langPath?: string;
}

/** The text read from one image. */
export interface OcrPage {
  text: string;
  /** Tesseract's mean word confidence, 0–100. */
  confidence: number;
}

/** The folder of the English model that `@tesseract.js-data/eng` installs. */
export function defaultLangPath(): string {
  // The package's entry exports `{ langPath }`; resolving its package.json instead keeps this a pure path lookup.
  return path.join(path.dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0');
}

/**
 * The options handed to tesseract.js: every path local, no cache written. Exported so that a test can
 * check that nothing points at the network.
 */
export function tesseractOptions(options: OcrEngineOptions = {}): {
  langPath: string;
  workerPath: string;
  cacheMethod: 'none';
  gzip: true;
  errorHandler: (error: unknown) => void;
} {
  return {
    langPath: options.langPath ?? defaultLangPath(),
    // tesseract.js's own default, named explicitly so that the worker can only ever come from node_modules.
    workerPath: require.resolve('tesseract.js/src/worker-script/node/index.js'),
    cacheMethod: 'none',
    gzip: true,
    // Without a handler tesseract.js rethrows a failed job inside its message listener, which would be an
    // uncaught exception in our process; the job's own promise still rejects, and that is handled.
    errorHandler: () => undefined,
  };
}

/**
 * A reusable OCR engine. Create one per process (or per test file) and `terminate()` it on shutdown.
 */
export class OcrEngine {
  private worker: Promise<TesseractWorker> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private terminated = false;

  constructor(private readonly options: OcrEngineOptions = {}) {}

  /**
   * Reads the text of one image (PNG, JPEG, TIFF — first page only —, BMP, WebP or PGM bytes). Waiting for an
   * earlier image counts against `timeoutMs`, so a caller's budget is a budget.
   *
   * @throws {OcrTimeoutError} when the text is not read within `timeoutMs`; the worker is terminated.
   * @throws {OcrFailedError} when the engine cannot start or cannot decode the image.
   */
  recognize(image: Buffer, timeoutMs: number): Promise<OcrPage> {
    const deadline = Date.now() + timeoutMs;
    const run = this.queue.then(() => this.recognizeBy(image, deadline, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the worker thread. The engine cannot be used afterwards. */
  async terminate(): Promise<void> {
    this.terminated = true;
    const stopped = this.discardWorker();
    let timer: NodeJS.Timeout | undefined;
    // A worker that never finishes starting must not hold up shutdown.
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, TERMINATE_WAIT_MS);
    });
    await Promise.race([stopped, giveUp]);
    clearTimeout(timer);
  }

  private async recognizeBy(image: Buffer, deadline: number, timeoutMs: number): Promise<OcrPage> {
    if (this.terminated) throw new OcrFailedError('the OCR engine has been terminated');
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new OcrTimeoutError(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OcrTimeoutError(timeoutMs)), remaining);
    });
    try {
      const work = (async () => {
        const worker = await this.getWorker();
        const { data } = await worker.recognize(image);
        return { text: data.text.trim(), confidence: data.confidence };
      })();
      // Whichever loses the race must not surface as an unhandled rejection.
      work.catch(() => undefined);
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof OcrTimeoutError) {
        // tesseract.js leaves a terminated worker's jobs pending for ever; the race above is what returns.
        // Not awaited: a worker still starting is stopped once it has started, without holding up the caller.
        void this.discardWorker();
        throw error;
      }
      throw new OcrFailedError(`OCR failed: ${describe(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private getWorker(): Promise<TesseractWorker> {
    if (!this.worker) {
      const starting = (async () => {
        // LSTM only: the neural recogniser, which is what the npm `eng` model is for.
        const worker = await createWorker(this.options.lang ?? 'eng', OEM.LSTM_ONLY, tesseractOptions(this.options));
        // Let tesseract find the blocks of a letter (an address top right, paragraphs below) by itself.
        await worker.setParameters({
          tessedit_pageseg_mode: PSM.AUTO,
          // Tesseract's diagnostics ("Estimating resolution as 207") would go to our stdout from the thread.
          debug_file: '/dev/null',
        });
        return worker;
      })();
      this.worker = starting;
      // A worker that failed to start is forgotten, so that the next call tries again.
      starting.catch(() => {
        if (this.worker === starting) this.worker = undefined;
      });
    }
    return this.worker;
  }

  /** Forgets the current worker and stops it (once it has started, if it is still starting). */
  private async discardWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    try {
      await (await worker).terminate();
    } catch {
      // It never started, or is already gone: nothing left to stop.
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unknown error';
}
