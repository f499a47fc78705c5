/**
 * The Twilio voice webhooks (DESIGN.md §4): `POST /voice/incoming`, `/voice/gather`, `/voice/status` and
 * `/voice/fallback`. HTTP only — parsing the form, checking the signature, sending TwiML; what a call hears
 * is `channels/voice/`'s business.
 *
 * Two promises hold for every request that carries a valid Twilio signature:
 * - the answer is `200 text/xml` TwiML — never a 5xx, whatever fails (Redis, the rules, a bug here): the
 *   last resort is the static safe answer (emergency offer, then the normal route);
 * - nothing slow stands between the request and the answer: Redis is asked within the lookup budget, and
 *   evidence is written after the answer has gone.
 * A request without a valid signature gets a JSON error (400 `missing-signature`, 403 `invalid-signature`)
 * and no TwiML at all.
 */
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';

import type { Config } from '../config/env';
import { requireTwilioToken } from '../config/env';
import { logger as defaultLogger } from '../config/logger';
import type { DecisionSettings } from '../rules/types';
import { BackgroundTasks } from '../channels/voice/background';
import { VoiceCallFlow, type DecideFn, type VoiceLogger } from '../channels/voice/call-flow';
import type { DecidedCallWriter } from '../channels/voice/call-recorder';
import type { CallSessionStore } from '../channels/voice/call-session';
import { VoiceEvidence, type AuditRecorder, type ContactRecorder } from '../channels/voice/evidence';
import type { CallerLookup } from '../channels/voice/identify';
import type { EventPublisher } from '../channels/voice/screen-pop';
import { twilioSignature } from '../channels/voice/signature';
import { toHttpError } from './errors';
import { recordDecision } from './metrics';

/** The configuration the voice webhooks read. */
export type VoiceRouteConfig = Pick<
  Config,
  'publicUrl' | 'twilioAuthToken' | 'emergencyNumber' | 'emergencyDigit' | 'voiceDefaultRoute' | 'voiceLookupBudgetMs'
>;

/** What {@link createVoiceRouter} needs, injected so tests and the process entry point wire the same code. */
export interface VoiceRouterDeps {
  config: VoiceRouteConfig;
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
}

/** Marks a request whose signature was verified, so an error after that point still answers TwiML. */
const VERIFIED = 'twilioVerified';

/**
 * Sends TwiML. Written out with node's own `writeHead` and `end` rather than express's `send`: a webhook
 * answer is never cached or revalidated, so express's ETag (a hash of every answer) and its content-type
 * lookup would be pure cost on the hot path.
 */
function sendTwiml(res: Response, twiml: string): void {
  res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(twiml) });
  res.end(twiml);
}

/**
 * Builds the router for `/voice/*`. Mount it at the application root (`app.use(createVoiceRouter(deps))`);
 * its body parser and signature check apply under `/voice` only.
 * @throws ConfigError when `TWILIO_AUTH_TOKEN` is unset; VoiceConfigError when `PUBLIC_URL` is unusable.
 */
export function createVoiceRouter(deps: VoiceRouterDeps): Router {
  const router = Router();
  mountVoiceRoutes(router, deps);
  return router;
}

/** Where {@link mountVoiceRoutes} adds the webhooks: an express app or a router. */
export interface RouteTarget {
  post: Router['post'];
  use: Router['use'];
}

/**
 * Adds the `/voice/*` webhooks to `target` directly — to the application itself in the gateway, so that a
 * webhook passes through no router of its own (a nested router re-matches and re-bases every request, a
 * measurable share of a webhook's cost). Same routes, checks and answers as {@link createVoiceRouter}.
 * @throws as {@link createVoiceRouter}.
 */
export function mountVoiceRoutes(target: RouteTarget, deps: VoiceRouterDeps): void {
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
  });

  // Twilio posts small forms; a large body is not Twilio.
  const parseForm = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 });
  const checkSignature = twilioSignature({ authToken: requireTwilioToken(deps.config), publicUrl: deps.config.publicUrl });
  /** The signature check, marking the request as Twilio's once it passes. */
  const verified: RequestHandler = (req, res, next) => {
    checkSignature(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      res.locals[VERIFIED] = true;
      next();
    });
  };
  /**
   * The form parser, the signature check and the answer as one handler, so a webhook costs one router
   * layer: express re-matches and re-bases the path at every layer, a measurable share of a webhook's cost.
   */
  const webhook =
    (answer: RequestHandler): RequestHandler =>
    (req, res, next) => {
      parseForm(req, res, (parseError?: unknown) => {
        if (parseError !== undefined) {
          next(parseError);
          return;
        }
        verified(req, res, (signatureError?: unknown) => {
          if (signatureError !== undefined) {
            next(signatureError);
            return;
          }
          // The answers catch their own failures (safe TwiML); anything else still reaches onError.
          Promise.resolve(answer(req, res, next)).catch(next);
        });
      });
    };
  const router = target;

  /** Runs a TwiML handler; anything it throws still gets the safe answer, never a 5xx. */
  const twimlRoute =
    (name: string, handle: (req: Request) => Promise<string> | string): RequestHandler =>
    async (req, res) => {
      let twiml: string;
      try {
        twiml = await handle(req);
      } catch (error) {
        log.error('voice: webhook failed; answering with the safe route', { route: name, error });
        twiml = flow.safeTwiml;
      }
      sendTwiml(res, twiml);
    };

  router.post('/voice/incoming', webhook(twimlRoute('incoming', (req) => flow.incoming(req.body))));
  router.post('/voice/gather', webhook(twimlRoute('gather', (req) => flow.gather(req.body, req.query))));
  router.post('/voice/fallback', webhook(twimlRoute('fallback', () => flow.fallback())));
  router.post('/voice/status', webhook(async (req, res) => {
    try {
      const answer = await flow.status(req.body, req.query);
      if (answer.kind === 'invalid') {
        res.status(400).json({ error: { code: 'invalid-params', message: answer.message } });
        return;
      }
      sendTwiml(res, answer.twiml);
    } catch (error) {
      log.error('voice: status webhook failed', { route: 'status', error });
      sendTwiml(res, flow.safeTwiml);
    }
  }));
  // Any other request under /voice meets the same checks (400/403 without a valid signature) before the 404.
  router.use('/voice', parseForm, verified);

  const onError: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (res.locals[VERIFIED] === true) {
      log.error('voice: webhook failed; answering with the safe route', { error });
      sendTwiml(res, flow.safeTwiml);
      return;
    }
    // Before the signature check: the body could not be read (malformed, too large), so it cannot be Twilio's.
    // Known body errors get the gateway's own codes (413 `payload-too-large`, …), whether the webhooks are
    // mounted on the gateway app or on a router of their own.
    const known = toHttpError(error);
    if (known !== undefined && known.status < 500) {
      res.status(known.status).json({ error: { code: known.code, message: known.message } });
      return;
    }
    const status = (error as { status?: unknown }).status;
    res
      .status(typeof status === 'number' && status >= 400 && status < 500 ? status : 400)
      .json({ error: { code: 'invalid-body', message: 'The request body could not be read as a Twilio webhook form' } });
  };
  router.use('/voice', onError);
}
