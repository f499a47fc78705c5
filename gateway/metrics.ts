/**
 * Prometheus metrics. One registry per process (prom-client's default metrics hook process-wide observers,
 * so they are collected once), the gate's own decision metrics, and HTTP request timings.
 * Labels are bounded vocabularies only (channel, outcome, route pattern, status): never an identity.
 */
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The registry `/metrics` serves. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Decisions made, by channel (`voice`, `email`, `letter`, `visit`) and outcome (`proceed`, `deflect`, `emergency`). */
export const decisionsTotal = new Counter({
  name: 'gatekeeper_decisions_total',
  help: 'Decisions made by the gate, by channel and outcome.',
  labelNames: ['channel', 'outcome'] as const,
  registers: [registry],
});

/** Time from an inbound contact's arrival to its decision (identity lookup included), by channel. */
export const decisionSeconds = new Histogram({
  name: 'gatekeeper_decision_seconds',
  help: 'Seconds from receiving a contact to deciding on it, identity lookup included.',
  labelNames: ['channel'] as const,
  // The voice budget is 150 ms; the buckets resolve around it.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

/** HTTP request durations by method, route pattern and status. */
export const httpRequestSeconds = new Histogram({
  name: 'gatekeeper_http_request_duration_seconds',
  help: 'HTTP request durations, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

/**
 * Staff requests let in on a token this gateway verified earlier because Redis could not answer in time
 * (gateway/verified-tokens.ts): non-zero only during a Redis outage.
 */
export const authFailStaticTotal = new Counter({
  name: 'gatekeeper_auth_fail_static_total',
  help: 'Staff requests authenticated from a recent verification because Redis could not answer in time.',
  registers: [registry],
});

/**
 * Requests whose client went away before the answer was sent: a Twilio webhook that took longer than
 * Twilio's 15 s (Twilio then asks the fallback URL), a browser that gave up, an event stream closed. Kept
 * out of the duration histogram, whose buckets are for answers.
 */
export const httpRequestsAbortedTotal = new Counter({
  name: 'gatekeeper_http_requests_aborted_total',
  help: 'HTTP requests whose connection closed before the answer was sent, by method and route pattern.',
  labelNames: ['method', 'route'] as const,
  registers: [registry],
});

/**
 * Records one decision.
 * @param seconds time taken, when measured.
 */
export function recordDecision(channel: string, outcome: string, seconds?: number): void {
  decisionsTotal.inc({ channel, outcome });
  if (seconds !== undefined) decisionSeconds.observe({ channel }, seconds);
}

/** Batches of call evidence, by who wrote them (`thread`, or `fallback`: the main thread) and result. */
export const voiceEvidenceBatchesTotal = new Counter({
  name: 'gatekeeper_voice_evidence_batches_total',
  help: 'Batches of call evidence written, by writer (thread or fallback) and result (written or failed).',
  labelNames: ['writer', 'result'] as const,
  registers: [registry],
});

/** Unexpected ends of the voice evidence thread (each is followed by a delayed restart). */
export const voiceEvidenceThreadExitsTotal = new Counter({
  name: 'gatekeeper_voice_evidence_thread_exits_total',
  help: 'Times the voice evidence thread ended unexpectedly (its batches are written by the main thread meanwhile).',
  registers: [registry],
});

/** Records one batch of call evidence (the evidence thread's `onBatch`). */
export function recordEvidenceBatch(writer: 'thread' | 'fallback', written: boolean): void {
  voiceEvidenceBatchesTotal.inc({ writer, result: written ? 'written' : 'failed' });
}

/**
 * Calls the rules routed to a member of staff — a restriction's named contact, or whoever arranged a one-off
 * exception — who has neither a phone number nor a Twilio Client identity, and which therefore went to the
 * default route (`VOICE_DEFAULT_ROUTE`) instead. Should stay at zero: each one is a customer who does not
 * reach the person their restriction names (the log line has the ids).
 */
export const voiceNamedContactUnreachableTotal = new Counter({
  name: 'gatekeeper_voice_named_contact_unreachable_total',
  help: 'Calls routed to a named member of staff with no phone or client identity (put through to their deputy, or else the default route, instead), by routing (named-contact or exception).',
  labelNames: ['routing'] as const,
  registers: [registry],
});

/** Records one call whose named member of staff could not be dialled (the call flow's `onUndialledStaff`). */
export function recordNamedContactUnreachable(routing: 'named-contact' | 'exception'): void {
  voiceNamedContactUnreachableTotal.inc({ routing });
}

/** Records an unexpected end of the evidence thread (its `onThreadExit`). */
export function recordEvidenceThreadExit(): void {
  voiceEvidenceThreadExitsTotal.inc();
}

/**
 * Confirmations that writes reached the replicas before they were acknowledged (Sentinel; store/durability.ts),
 * one per connection a request wrote over (a lifecycle step or an ingested message counts two: store and queue).
 */
export const writeConfirmationsTotal = new Counter({
  name: 'gatekeeper_write_confirmations_total',
  help: 'Write confirmations on the replicas before an acknowledgement (Sentinel only; one per connection written over), by result: confirmed, unreplicated (accepted on a primary without replicas) or refused (answered 503/451 for a retry).',
  labelNames: ['result'] as const,
  registers: [registry],
});

/** Records how one write confirmation ended (a WriteConfirmer's `onResult`). */
export function recordWriteConfirmation(result: 'confirmed' | 'unreplicated' | 'refused'): void {
  writeConfirmationsTotal.inc({ result });
}

/** A queue whose job counts can be read (a BullMQ Queue). */
export interface CountableQueue {
  name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

/** Job states reported per queue: waiting work, work in hand, delayed (digests, retries) and failed jobs. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

const watchedQueues = new Set<CountableQueue>();

/**
 * How long a scrape waits for the queues' counts. The queue connection waits for Redis as long as it takes
 * (jobs must not be lost), so a hung Redis would otherwise hang `/metrics` — the page that should show the
 * outage — until Prometheus gives up on it.
 */
const QUEUE_COUNT_BUDGET_MS = 1000;

/** `counts`, or a rejection once {@link QUEUE_COUNT_BUDGET_MS} has passed (the late answer is dropped). */
function withinScrapeBudget<T>(counts: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('queue counts took too long')), QUEUE_COUNT_BUDGET_MS);
  });
  counts.catch(() => undefined);
  return Promise.race([counts, late]).finally(() => clearTimeout(timer));
}

/** Jobs per queue and state, read from Redis when `/metrics` is scraped (so every instance reports the shared queues). */
export const queueJobs = new Gauge({
  name: 'gatekeeper_queue_jobs',
  help: 'Jobs in each BullMQ queue, by state (failed jobs wait for a person to look at them on /admin/queues).',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    await Promise.all(
      [...watchedQueues].map(async (queue) => {
        try {
          const counts = await withinScrapeBudget(queue.getJobCounts(...QUEUE_STATES));
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        } catch {
          // Redis away or hung: the queue is simply missing from this scrape; readiness reports the outage.
        }
      }),
    );
  },
});

/** Reports these queues' job counts on `/metrics`. */
export function watchQueues(queues: Iterable<CountableQueue>): void {
  for (const q of queues) watchedQueues.add(q);
}

/** Stops reporting these queues (they are being closed). */
export function unwatchQueues(queues: Iterable<CountableQueue>): void {
  for (const q of queues) watchedQueues.delete(q);
}

/** `GET /metrics`: the registry in Prometheus text format. */
export const metricsHandler: RequestHandler = async (_req, res) => {
  const body = await registry.metrics();
  res.set('Content-Type', registry.contentType).set('Cache-Control', 'no-store').send(body);
};
