/**
 * Evidence of calls, written on a worker thread. Answering a call takes the gateway's event loop ~200 µs;
 * claiming it and writing its contact record, audit entry and screen-pop took another ~80 µs of the same
 * thread, although nobody waits for it. On its own thread (with its own Redis connections) that work runs
 * on another core, beside the answering, and the gateway answers ~35% more calls a second (bench/voice).
 *
 * The thread runs the same {@link DirectCallWriter} the gateway would run itself
 * (evidence-thread-entry.ts), over the same Redis target. A batch is posted as plain data (structured
 * clone) and its promise settles when the thread has written it, so `BackgroundTasks.idle()` still means
 * "all evidence written". When the thread is not there — it failed to start, crashed, or was closed — a
 * batch is written on this thread by `fallback` instead: evidence is never dropped because of the thread.
 * A batch the thread died in the middle of is written again by the fallback; the writes are idempotent by
 * CallSid, and a claim holding this very answer counts as ours (call-recorder.ts).
 *
 * The thread is started on the first batch (a gateway that never takes a call never starts one), keeps the
 * process alive only while it has batches to write, and is closed by {@link EvidenceThread.close}, which waits
 * for batches in flight and lets the thread close its connections. A thread that ends unexpectedly is
 * started again after 1 s, doubling up to a minute while it keeps dying (logged each time, and counted by
 * the gateway's `gatekeeper_voice_evidence_thread_exits_total`); the main thread writes meanwhile.
 *
 * {@link createEvidenceThread} wires it as the gateway runs it — the thread, with this thread's
 * {@link DirectCallWriter} over the gateway's own connections as its fallback — so that the gateway, the
 * voice bench and the test harness run the same wiring.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { LogLevel } from '../../config/defaults';
import type { RedisTarget } from '../../store/redis-target';
import { DirectCallWriter, type DecidedCall, type DecidedCallWriter, type RecorderLogger } from './call-recorder';
import type { CallSessionStore } from './call-session';
import { VoiceEvidence, type EvidenceSinks } from './evidence';
import type { EventPublisher } from './screen-pop';

/** The thread's old-generation heap limit, far above what it needs: its batches are small and short-lived. */
const EVIDENCE_THREAD_HEAP_MB = 128;

/** The first wait before starting a thread again after one ended unexpectedly, and the longest. */
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 60_000;

/** What the thread is started with (`workerData`). */
export interface EvidenceThreadData {
  target: RedisTarget;
  /** Suffix of the thread's connection names. */
  name: string;
  logLevel: LogLevel;
  region?: string;
  textRetentionDays?: number;
  auditMaxLength?: number;
  auditOnceTtlSeconds?: number;
}

/** Messages to the thread. */
export type ToEvidenceThread = { type: 'write'; id: number; calls: readonly DecidedCall[] } | { type: 'close' };

/** A failure as it crosses back from the thread (an Error does not keep its `code` through structured clone). */
export interface ThreadFailure {
  name: string;
  message: string;
  code?: string;
}

/** Messages from the thread. */
export type FromEvidenceThread = { type: 'written'; id: number; failure?: ThreadFailure } | { type: 'closed' };

/** Options of {@link EvidenceThread}. */
export interface EvidenceThreadOptions extends Omit<EvidenceThreadData, 'name' | 'logLevel'> {
  /** Writes a batch on this thread when the evidence thread cannot. */
  fallback: DecidedCallWriter;
  logger: RecorderLogger;
  /** Default `gateway`. */
  name?: string;
  /** The thread's own log level. Default `warn`. */
  logLevel?: LogLevel;
  /** Told of every batch: who wrote it and whether it was written (metrics). */
  onBatch?: (writer: 'thread' | 'fallback', written: boolean) => void;
  /** Told when the thread ends unexpectedly (metrics). */
  onThreadExit?: (exitCode: number) => void;
  /**
   * The script the thread runs. Default: evidence-thread-entry (.js when built, .ts under Jest). Tests pass
   * a misbehaving one to show that a thread that dies loses no evidence.
   */
  entry?: string;
}

/** A batch the thread could not take: it is written by the fallback. */
class ThreadStoppedError extends Error {
  readonly code = 'evidence-thread-stopped';

  /** @param posted whether the batch had reached the thread (which may have written part of it). */
  constructor(
    message: string,
    readonly posted = false,
  ) {
    super(message);
  }
}

/** A failure the thread reported while writing a batch (a Redis error, usually), with its code. */
export class EvidenceWriteError extends Error {
  readonly code: string;

  constructor(failure: ThreadFailure) {
    super(failure.message);
    this.name = failure.name;
    this.code = failure.code ?? 'evidence-write-failed';
  }
}

/**
 * Under Jest the sources are TypeScript, which a worker thread cannot load by itself: this bootstrap (run
 * with `eval`) compiles them with @swc/core — the compiler Jest itself uses here — as they are required.
 * The built gateway (`dist/`, plain JavaScript) starts the entry file directly and never needs it.
 */
const TYPESCRIPT_BOOTSTRAP = String.raw`
'use strict';
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const swc = require(workerData.swcPath);
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(workerData.entry);
`;

/** Writes batches of decided calls on a worker thread (see the module comment). */
export class EvidenceThread implements DecidedCallWriter {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed = false;
  private warned = false;
  /** After an unexpected exit, no new thread before this (epoch ms); the fallback writes meanwhile. */
  private restartAt = 0;
  /** The current wait before a restart: doubles with each exit in a row, back to none once a batch is written. */
  private restartDelayMs = 0;

  constructor(private readonly options: EvidenceThreadOptions) {}

  /** Batches posted to the thread and not yet written. */
  get inFlight(): number {
    return this.waiting.size;
  }

  async write(calls: readonly DecidedCall[]): Promise<void> {
    try {
      await this.post(calls);
      this.options.onBatch?.('thread', true);
      return;
    } catch (error) {
      if (!(error instanceof ThreadStoppedError)) {
        this.options.onBatch?.('thread', false);
        throw error;
      }
      if (!this.warned) {
        this.warned = true;
        this.options.logger.warn('voice: the evidence thread is not available; writing evidence on the main thread', { code: error.message });
      }
      // The thread may have written part of this batch before it stopped.
      try {
        await this.options.fallback.write(calls, { resumed: error.posted });
        this.options.onBatch?.('fallback', true);
      } catch (fallbackError) {
        this.options.onBatch?.('fallback', false);
        throw fallbackError;
      }
    }
  }

  /**
   * Waits for the batches in flight, then asks the thread to close its connections and waits for it to
   * end (terminating it if it has not within `timeoutMs`). Later batches are written by the fallback.
   */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), timeoutMs);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      // The thread finishes the batches already posted (they arrive before this) before it closes.
      worker.postMessage({ type: 'close' } satisfies ToEvidenceThread);
    });
  }

  private post(calls: readonly DecidedCall[]): Promise<void> {
    if (this.closed) return Promise.reject(new ThreadStoppedError('closed'));
    if (this.worker === undefined && Date.now() < this.restartAt) return Promise.reject(new ThreadStoppedError('restarting later'));
    let worker: Worker;
    try {
      worker = this.worker ?? this.start();
    } catch (error) {
      return Promise.reject(new ThreadStoppedError(`could not start: ${error instanceof Error ? error.message : String(error)}`));
    }
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      // Held (ref'd) while it has batches to write, so a process winding down waits for them.
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ type: 'write', id, calls } satisfies ToEvidenceThread);
    });
  }

  private start(): Worker {
    const entry = this.options.entry ?? join(__dirname, `evidence-thread-entry${extname(__filename)}`);
    const workerData: EvidenceThreadData & { entry: string; swcPath?: string } = {
      target: this.options.target,
      name: this.options.name ?? 'gateway',
      logLevel: this.options.logLevel ?? 'warn',
      entry,
      ...(this.options.region !== undefined ? { region: this.options.region } : {}),
      ...(this.options.textRetentionDays !== undefined ? { textRetentionDays: this.options.textRetentionDays } : {}),
      ...(this.options.auditMaxLength !== undefined ? { auditMaxLength: this.options.auditMaxLength } : {}),
      ...(this.options.auditOnceTtlSeconds !== undefined ? { auditOnceTtlSeconds: this.options.auditOnceTtlSeconds } : {}),
    };
    const typescript = extname(entry) === '.ts';
    if (typescript) workerData.swcPath = require.resolve('@swc/core');
    // A bounded heap: a thread that leaked would be ended by V8 and its batches written by the fallback.
    const resourceLimits = { maxOldGenerationSizeMb: EVIDENCE_THREAD_HEAP_MB };
    const worker = typescript ? new Worker(TYPESCRIPT_BOOTSTRAP, { eval: true, workerData, resourceLimits }) : new Worker(entry, { workerData, resourceLimits });
    // Idle, it never keeps a process alive (see post()).
    worker.unref();
    worker.on('message', (message: FromEvidenceThread) => {
      if (message.type !== 'written') return;
      const waiter = this.waiting.get(message.id);
      if (waiter === undefined) return;
      this.waiting.delete(message.id);
      if (this.waiting.size === 0) worker.unref();
      // A batch written: the thread is healthy, so a later exit is restarted at once again.
      this.restartDelayMs = 0;
      if (message.failure === undefined) waiter.resolve();
      else waiter.reject(new EvidenceWriteError(message.failure));
    });
    // An error inside the thread ends it; 'exit' follows and hands its batches to the fallback.
    worker.on('error', (error) => this.options.logger.warn('voice: the evidence thread failed', { code: error.name }));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (!this.closed) {
        // Unexpected (a crash, the heap limit): restart later, with a growing wait, so that a thread that
        // dies on start-up or on every batch cannot turn into a start per batch.
        this.restartDelayMs = Math.min(Math.max(RESTART_MIN_MS, this.restartDelayMs * 2), RESTART_MAX_MS);
        this.restartAt = Date.now() + this.restartDelayMs;
        this.options.logger.warn('voice: the evidence thread stopped; the main thread writes until it is restarted', {
          exitCode: code,
          restartInMs: this.restartDelayMs,
        });
        this.options.onThreadExit?.(code);
      }
      const orphans = [...this.waiting.values()];
      this.waiting.clear();
      for (const waiter of orphans) waiter.reject(new ThreadStoppedError(`exited with code ${code}`, true));
    });
    this.worker = worker;
    return worker;
  }
}

/** What {@link createEvidenceThread} builds a thread from: the thread's options, less the fallback it builds. */
export interface EvidenceThreadWiring extends Omit<EvidenceThreadOptions, 'fallback'> {
  /** The call sessions the fallback claims calls in (the gateway's, over its lookup connection). */
  calls: CallSessionStore;
  /** The contact history and audit stream the fallback writes to (a store/ `Store` has both). */
  store: Pick<EvidenceSinks, 'contacts' | 'audit'>;
  /** The connection the fallback publishes screen-pops on. */
  events: EventPublisher;
}

/**
 * An {@link EvidenceThread} over `wiring.target`, with a {@link DirectCallWriter} on this thread as its
 * fallback: the same writer the thread runs, but over this thread's connections (`calls`, `store`, `events`),
 * so a batch the thread cannot take is written exactly as the thread would have written it.
 * @param wiring the thread's options (target, logger, name, log level, hooks, entry…), and what the
 *   fallback writes with.
 * @returns the thread, not yet started (it starts with its first batch); close it with {@link EvidenceThread.close}.
 */
export function createEvidenceThread(wiring: EvidenceThreadWiring): EvidenceThread {
  const { calls, store, events, ...options } = wiring;
  const fallback = new DirectCallWriter(calls, new VoiceEvidence({ contacts: store.contacts, audit: store.audit, events }), options.logger);
  return new EvidenceThread({ ...options, fallback });
}
