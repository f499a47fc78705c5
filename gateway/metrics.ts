/**
 * Prometheus metrics. One registry per process (prom-client's default metrics hook process-wide observers,
 * so they are collected once), the gate's own decision metrics, and HTTP request timings.
 * Labels are bounded vocabularies only (channel, outcome, route pattern, status): never an identity.
 */
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
 * Records one decision.
 * @param seconds time taken, when measured.
 */
export function recordDecision(channel: string, outcome: string, seconds?: number): void {
  decisionsTotal.inc({ channel, outcome });
  if (seconds !== undefined) decisionSeconds.observe({ channel }, seconds);
}

/** `GET /metrics`: the registry in Prometheus text format. */
export const metricsHandler: RequestHandler = async (_req, res) => {
  const body = await registry.metrics();
  res.set('Content-Type', registry.contentType).set('Cache-Control', 'no-store').send(body);
};
