/**
 * The request log and timing every answered request gets, whoever answered it (the express app, or the
 * voice webhooks that are served ahead of it): one line per request — method, path (no query string: it
 * may hold personal data), status, milliseconds, request id — and one observation for `/metrics`. Never the
 * body or headers.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

import type { Logger } from '../config/logger';
import { httpRequestSeconds, httpRequestsAbortedTotal } from './metrics';

/** Paths polled by machines: logged at debug so they do not drown the request log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** A caller's own request id is kept only when it is short and plain (it ends up in logs). */
const REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * The request id to answer with (`X-Request-Id`): the caller's own when it is a short plain token, so a
 * proxy's id follows the request through; otherwise a new UUID.
 */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** One answered request, as {@link logAnswered} records it. */
export interface AnsweredRequest {
  method: string;
  /** The path without its query string. */
  path: string;
  /** The matched route pattern (`/v1/restrictions/:id`) or `unmatched`: a bounded metric label, unlike the path. */
  route: string;
  status: number;
  seconds: number;
  requestId: string;
  /** The connection closed before the answer had been sent (the status is then what had been set, if anything). */
  aborted?: boolean;
}

/**
 * Logs an answered request and observes its duration; an aborted one is logged as such and counted apart
 * (`gatekeeper_http_requests_aborted_total`), not timed.
 */
export function logAnswered(logger: Logger, answered: AnsweredRequest): void {
  if (answered.aborted === true) {
    httpRequestsAbortedTotal.inc({ method: answered.method, route: answered.route });
    if (!logger.isLevelEnabled('info')) return;
    logger.info('request aborted', {
      method: answered.method,
      path: answered.path,
      ms: Math.round(answered.seconds * 1000),
      requestId: answered.requestId,
    });
    return;
  }
  httpRequestSeconds.observe({ method: answered.method, route: answered.route, status: String(answered.status) }, answered.seconds);
  const level = QUIET_PATHS.has(answered.path) ? 'debug' : 'info';
  // Checked first: building the entry and passing it through winston's stream costs a busy webhook
  // several microseconds even when the level is off.
  if (!logger.isLevelEnabled(level)) return;
  logger.log(level, 'request', {
    method: answered.method,
    path: answered.path,
    status: answered.status,
    ms: Math.round(answered.seconds * 1000),
    requestId: answered.requestId,
  });
}

/**
 * Calls `done` once when the response is over: sent in full (`aborted` false), or cut off because the
 * connection closed first (`aborted` true). Told apart by 'finish', which node emits only for an answer
 * handed to a live connection: `writableFinished` would not do, since an answer ended after the
 * connection closed (a body reader giving up on an aborted request answers 400) sets it all the same.
 */
export function onResponseOver(res: ServerResponse, done: (aborted: boolean) => void): void {
  let finished = false;
  res.once('finish', () => (finished = true));
  res.once('close', () => done(!finished));
}
