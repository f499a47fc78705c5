/**
 * The Twilio voice webhooks (DESIGN.md §4): `POST /voice/incoming`, `/voice/gather`, `/voice/status` and
 * `/voice/fallback`. HTTP only — reading the form, checking the signature, sending TwiML; what a call hears
 * is `channels/voice/`'s business.
 *
 * They are served ahead of the express app (gateway/http-handler.ts), on node's own request and response:
 * a webhook needs none of express's routing, response helpers or middleware, and on the 2-core machine the
 * voice benchmark runs on, express's per-request work cost more than the whole gate (bench/voice/README.md).
 * What the app's middleware gives every other route, a webhook gets here too: the request log and timing,
 * a request id, `nosniff`, the body limits, and the gateway's JSON error shape.
 *
 * Two promises hold for every request that carries a valid Twilio signature:
 * - the answer is `200 text/xml` TwiML — never a 5xx, whatever fails (Redis, the rules, a bug here): the
 *   last resort is the static safe answer (emergency offer, then the normal route);
 * - nothing slow stands between the request and the answer: Redis is asked within the lookup budget, and
 *   evidence is written after the answer has gone.
 * A request without a valid signature gets a JSON error (400 `missing-signature`, 403 `invalid-signature`)
 * and no TwiML at all.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';

import { parse as parseContentType } from 'content-type';
import getRawBody from 'raw-body';

import type { Config } from '../config/env';
import { requireTwilioToken } from '../config/env';
import { logger as defaultLogger } from '../config/logger';
import type { DecisionSettings } from '../rules/types';
import { BackgroundTasks } from '../channels/voice/background';
import { VoiceCallFlow, type DecideFn, type StatusAnswer, type VoiceLogger } from '../channels/voice/call-flow';
import type { DecidedCallWriter } from '../channels/voice/call-recorder';
import type { CallSessionStore } from '../channels/voice/call-session';
import { VoiceEvidence, type AuditRecorder, type ContactRecorder } from '../channels/voice/evidence';
import type { CallerLookup } from '../channels/voice/identify';
import type { EventPublisher } from '../channels/voice/screen-pop';
import { twilioSignatureCheck, type WebhookParams } from '../channels/voice/signature';
import { FORM_BODY_LIMIT } from './app';
import { BadRequest, Forbidden, HttpError, NotFound, PayloadTooLarge, toHttpError, type ErrorBody } from './errors';
import { recordDecision, recordNamedContactUnreachable } from './metrics';

/** The configuration the voice webhooks read. */
export type VoiceWebhookConfig = Pick<
  Config,
  'publicUrl' | 'twilioAuthToken' | 'emergencyNumber' | 'emergencyDigit' | 'voiceDefaultRoute' | 'voiceLookupBudgetMs'
>;

/** What {@link createVoiceWebhooks} needs, injected so tests, the benchmark and the gateway wire the same code. */
export interface VoiceWebhookDeps {
  config: VoiceWebhookConfig;
  /** Organisation-wide decision settings (time zone, written route, emergency phrases). */
  settings: DecisionSettings;
  /** Resolves a caller's number: store/ `GateRepository` on the fail-fast lookup connection. */
  gate: CallerLookup;
  /** One record per CallSid: `RedisCallSessions` on the lookup connection. */
  calls: CallSessionStore;
  contacts: ContactRecorder;
  audit: AuditRecorder;
  /** Redis pub/sub for screen-pops (any ioredis connection not in subscriber mode). */
  events: EventPublisher;
  /** Default `() => new Date()`. */
  now?: () => Date;
  /** Default: the process logger (which redacts numbers; none are passed to it anyway). */
  logger?: VoiceLogger;
  /** Where after-the-answer work runs; pass one to wait for it (`idle()`) at shutdown or in tests. */
  background?: BackgroundTasks;
  /** Default: `rules/decide`. */
  decide?: DecideFn;
  /**
   * Where decided calls are claimed and recorded. Default: on this thread, through `calls`, `contacts`,
   * `audit` and `events`; the gateway passes an `EvidenceThread` (channels/voice/evidence-thread.ts).
   */
  evidenceWriter?: DecidedCallWriter;
  /** How long a batch of decided calls waits for more before it is written; default 0 (one event-loop turn). */
  evidenceWindowMs?: number;
  /** How long a webhook's body may take to arrive; default {@link VOICE_BODY_DEADLINE_MS}. */
  bodyDeadlineMs?: number;
}

/** The voice webhooks, answering on node's own request and response. */
export interface VoiceWebhooks {
  /**
   * Answers a request whose path is under `/voice` ({@link isVoicePath}); never throws.
   * @returns the matched route pattern (`/voice/incoming`), or `unmatched`, for the request log's label.
   */
  handle(req: IncomingMessage, res: ServerResponse): string;
}

/**
 * How long a webhook's body may take to arrive once its headers have. Twilio sends the whole form at once
 * and gives up on a webhook after 15 s (then asks the fallback URL), so a body still missing after 10 s
 * is not Twilio's: it is answered 408 and its connection closed, instead of holding the socket for node's
 * `requestTimeout` (300 s).
 */
export const VOICE_BODY_DEADLINE_MS = 10_000;

/** Twilio sends about 20 fields; a form with more than this is not Twilio's. */
export const FORM_PARAMETER_LIMIT = 200;

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Whether a request path (with or without its query string) is one the voice webhooks answer: `/voice` and
 * below, in any letter case (as express routes match, so a webhook URL configured as `/Voice/incoming`
 * is answered as before).
 */
export function isVoicePath(url: string): boolean {
  if (url.length < 6 || (!url.startsWith('/voice') && url.slice(0, 6).toLowerCase() !== '/voice')) return false;
  return url.length === 6 || url[6] === '/' || url[6] === '?';
}

type Route = 'incoming' | 'gather' | 'status' | 'fallback';
const ROUTES = new Map<string, Route>([
  ['/voice/incoming', 'incoming'],
  ['/voice/gather', 'gather'],
  ['/voice/status', 'status'],
  ['/voice/fallback', 'fallback'],
]);

/**
 * Builds the webhooks over the call flow.
 * @throws ConfigError when `TWILIO_AUTH_TOKEN` is unset; VoiceConfigError when `PUBLIC_URL` is unusable.
 */
export function createVoiceWebhooks(deps: VoiceWebhookDeps): VoiceWebhooks {
  const log = deps.logger ?? defaultLogger;
  const background =
    deps.background ??
    new BackgroundTasks((task, error) => log.error('voice: background task failed', { task, code: (error as { code?: unknown })?.code, error }));
  const flow = new VoiceCallFlow({
    settings: {
      publicUrl: deps.config.publicUrl,
      emergencyNumber: deps.config.emergencyNumber,
      emergencyDigit: deps.config.emergencyDigit,
      defaultRoute: deps.config.voiceDefaultRoute,
      lookupBudgetMs: deps.config.voiceLookupBudgetMs,
    },
    decisionSettings: deps.settings,
    lookup: deps.gate,
    sessions: deps.calls,
    evidence: new VoiceEvidence({ contacts: deps.contacts, audit: deps.audit, events: deps.events }),
    background,
    now: deps.now ?? (() => new Date()),
    logger: log,
    ...(deps.decide !== undefined ? { decide: deps.decide } : {}),
    ...(deps.evidenceWriter !== undefined ? { writer: deps.evidenceWriter } : {}),
    ...(deps.evidenceWindowMs !== undefined ? { evidenceWindowMs: deps.evidenceWindowMs } : {}),
    onDecision: (decision, seconds) => recordDecision('voice', decision.outcome, seconds),
    onUndialledStaff: recordNamedContactUnreachable,
  });
  const checkSignature = twilioSignatureCheck({ authToken: requireTwilioToken(deps.config), publicUrl: deps.config.publicUrl });
  const bodyDeadlineMs = deps.bodyDeadlineMs ?? VOICE_BODY_DEADLINE_MS;

  /** Sends the TwiML for a verified request: whatever `answer` throws or rejects with, the safe route. */
  const answerWith = (res: ServerResponse, route: Route, answer: () => Promise<string> | string): void => {
    const fail = (error: unknown): void => {
      log.error('voice: webhook failed; answering with the safe route', { route, error });
      sendTwiml(res, flow.safeTwiml);
    };
    let pending: Promise<string> | string;
    try {
      pending = answer();
    } catch (error) {
      fail(error);
      return;
    }
    if (typeof pending === 'string') sendTwiml(res, pending);
    else pending.then((twiml) => sendTwiml(res, twiml), fail);
  };

  const answerStatus = (res: ServerResponse, params: WebhookParams, query: WebhookParams): void => {
    const sent = (answer: StatusAnswer): void => {
      if (answer.kind === 'invalid') sendError(res, new BadRequest('invalid-params', answer.message));
      else sendTwiml(res, answer.twiml);
    };
    flow.status(params, query).then(sent, (error: unknown) => {
      log.error('voice: status webhook failed', { route: 'status', error });
      sendTwiml(res, flow.safeTwiml);
    });
  };

  /** A request whose signature is valid: the route's answer, or 404 for any other method or path under /voice. */
  const answerVerified = (req: IncomingMessage, res: ServerResponse, route: Route | undefined, path: string, params: WebhookParams, url: string): void => {
    if (route === undefined) {
      sendError(res, new NotFound('not-found', `No route for ${req.method ?? 'GET'} ${path}`));
      return;
    }
    switch (route) {
      case 'incoming':
        answerWith(res, route, () => flow.incoming(params));
        return;
      case 'gather':
        answerWith(res, route, () => flow.gather(params, queryOf(url)));
        return;
      case 'fallback':
        answerWith(res, route, () => flow.fallback());
        return;
      case 'status':
        answerStatus(res, params, queryOf(url));
        return;
    }
  };

  return {
    handle(req, res) {
      const url = req.url ?? '/';
      const path = pathOf(url);
      const route = req.method === 'POST' ? (ROUTES.get(path) ?? ROUTES.get(path.toLowerCase())) : undefined;
      let verified = false;
      readForm(req, bodyDeadlineMs, (error, params) => {
        try {
          if (error !== undefined) {
            // The body could not be read (too large, malformed, wrong charset), so it cannot be Twilio's.
            sendError(res, error);
            return;
          }
          const verdict = checkSignature(req.headers['x-twilio-signature'], url, params);
          if (verdict === 'missing') sendError(res, new BadRequest('missing-signature', 'The X-Twilio-Signature header is missing'));
          else if (verdict === 'invalid') sendError(res, new Forbidden('invalid-signature', 'The X-Twilio-Signature header does not match this request'));
          else {
            verified = true;
            answerVerified(req, res, route, path, params, url);
          }
        } catch (unexpected) {
          // A bug here still gets an answer, never a hang: Twilio's request the safe TwiML, anyone else's a
          // JSON error (a request not shown to be Twilio's learns nothing about call routing).
          log.error('voice: webhook failed before an answer', { route: route ?? 'unmatched', error: unexpected });
          if (verified) sendTwiml(res, flow.safeTwiml);
          else sendError(res, new HttpError(500, 'internal', 'Internal error'));
        }
      });
      return route !== undefined ? path : 'unmatched';
    },
  };
}

/** The path of a request URL, without its query string or one trailing slash (`/voice/incoming/` is `/voice/incoming`). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The query string's parameters, parsed as express's default ("simple") query parser does. */
function queryOf(url: string): WebhookParams {
  const q = url.indexOf('?');
  return q === -1 ? {} : asParams(parseQueryString(url.slice(q + 1)));
}

/**
 * `querystring` types every value as possibly absent, but it only ever sets strings or arrays of them
 * (a repeated name); it returns a prototype-less object, so `__proto__` is an ordinary key. A repeated
 * name's array is remade here: twilio's signing tells arrays by `instanceof Array`, which fails for one
 * made by node's own module when this code runs in another realm (a test runner's sandbox).
 */
function asParams(parsed: ReturnType<typeof parseQueryString>): WebhookParams {
  for (const key in parsed) {
    const value = parsed[key];
    if (Array.isArray(value)) parsed[key] = Array.from(value);
  }
  return parsed as WebhookParams;
}

/**
 * Reads the webhook's form, as the app's urlencoded body parser does for every other route:
 * - no body, or a body of another type → no parameters (the signature check then decides);
 * - a content encoding (gzip, …) or a charset other than UTF-8 → 415 `unsupported-encoding`;
 * - over {@link FORM_BODY_LIMIT} or {@link FORM_PARAMETER_LIMIT} fields → 413 `payload-too-large`;
 * - a body shorter than its Content-Length, or aborted → 400;
 * - a body not all there within `deadlineMs` → 408 `request-timeout` (the reading is abandoned: `onForm` is
 *   called once, whatever the body does later).
 */
function readForm(req: IncomingMessage, deadlineMs: number, onForm: (error: HttpError | undefined, params: WebhookParams) => void): void {
  const { headers } = req;
  const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  const type = headers['content-type'];
  if (!hasBody || type === undefined) {
    onForm(undefined, {});
    return;
  }
  const contentType = type === FORM_TYPE ? undefined : parseContentType(type);
  if (contentType !== undefined && contentType.type !== FORM_TYPE) {
    // Not a form: not Twilio's either. Node discards the unread body once the answer has gone.
    onForm(undefined, {});
    return;
  }
  const charset = contentType?.parameters.charset?.toLowerCase();
  const encoding = headers['content-encoding']?.toLowerCase();
  if ((charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') || (encoding !== undefined && encoding !== 'identity')) {
    onForm(new HttpError(415, 'unsupported-encoding', 'The request body encoding is not supported'), {});
    return;
  }
  let answered = false;
  const done = (error: HttpError | undefined, params: WebhookParams): void => {
    if (answered) return;
    answered = true;
    clearTimeout(deadline);
    onForm(error, params);
  };
  // One timer per request that has a body to wait for; cleared as soon as the body is in (the usual case:
  // the form arrives with the headers).
  const deadline = setTimeout(() => done(new HttpError(408, 'request-timeout', 'The request body did not arrive in time'), {}), deadlineMs);
  getRawBody(req, { length: headers['content-length'] ?? null, limit: FORM_BODY_LIMIT }, (error, body) => {
    if (error) {
      done(toHttpError(error) ?? new BadRequest('invalid-body', 'The request body could not be read as a Twilio webhook form'), {});
      return;
    }
    const text = body.toString('utf8');
    if (countFields(text) > FORM_PARAMETER_LIMIT) {
      done(new PayloadTooLarge('payload-too-large', 'The request has too many parameters'), {});
      return;
    }
    done(undefined, text === '' ? {} : asParams(parseQueryString(text, '&', '=', { maxKeys: FORM_PARAMETER_LIMIT })));
  });
}

/** How many `name=value` fields a form holds (one more than its separators, none when empty). */
function countFields(text: string): number {
  if (text === '') return 0;
  let fields = 1;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) fields++;
  return fields;
}

/**
 * Sends TwiML with node's own `writeHead` and `end`: a webhook answer is never cached or revalidated, so
 * an ETag (a hash of every answer) or a content-type lookup would be pure cost on the hot path.
 */
function sendTwiml(res: ServerResponse, twiml: string): void {
  if (res.headersSent) return;
  res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(twiml) });
  res.end(twiml);
}

/**
 * Sends the gateway's JSON error shape (never TwiML: a request that cannot be shown to come from Twilio
 * learns nothing about call routing). A body that was refused unread is not drained: the connection
 * closes after the answer.
 */
function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ error: { code: error.code, message: error.message } } satisfies ErrorBody);
  res.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
    ...(error.status === 408 || error.status === 413 || error.status === 415 ? { Connection: 'close' } : {}),
  });
  res.end(body);
}
