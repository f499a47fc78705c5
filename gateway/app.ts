/**
 * The express application skeleton: security headers, body limits, request logging and timing, health and
 * metrics, then whatever routers `mount` adds, then the 404 and error handlers. Built by a function with its
 * dependencies passed in, so tests drive it with supertest and no listening socket.
 */
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from '../config/env';
import type { Logger } from '../config/logger';
import { bearerAuth, FailureLimiter, requireRole, type FailureLimitOptions, type TokenResolver } from './auth';
import { errorHandler, notFoundHandler } from './errors';
import { healthRouter, type ReadyCheck } from './health';
import { metricsHandler } from './metrics';
import { logAnswered, onResponseOver, requestIdFor } from './request-log';

/** JSON bodies of the staff API: small by nature; anything larger is a mistake or an attack. */
export const JSON_BODY_LIMIT = '100kb';
/** Form-encoded bodies: Twilio's webhooks carry a few dozen short fields (gateway/voice-webhooks.ts reads them with this limit too). */
export const FORM_BODY_LIMIT = '64kb';

/** What `mount` gets besides the app: ready-made authentication and role middleware. */
export interface MountKit {
  /** Bearer-token authentication (sets `res.locals.staff`), sharing one failure limiter across all routes. */
  auth: RequestHandler;
  /**
   * {@link auth} that also accepts a token this gateway verified earlier while Redis cannot answer
   * (gateway/verified-tokens.ts): for `POST /v1/decisions` only, which must answer emergencies in an outage.
   */
  authDuringOutage: RequestHandler;
  requireRole: typeof requireRole;
}

export interface AppDeps {
  config: Pick<Config, 'adminToken' | 'trustProxy'>;
  logger: Logger;
  checkReady: ReadyCheck;
  resolveToken: TokenResolver;
  /** Adds the routers (staff API, voice and email webhooks, console); called after the built-in routes. */
  mount?: (app: Express, kit: MountKit) => void;
  /** Authentication-failure limit; default 20 failures per address per minute. */
  authFailureLimits?: FailureLimitOptions;
}

/** Logs and times each request once it is answered (gateway/request-log.ts), with its request id. */
function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    // Read now: a mounted router strips its mount path from req.path, and it may not be back by 'finish'.
    const path = req.path;
    const requestId = requestIdFor(req.headers['x-request-id']);
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    onResponseOver(res, (aborted) => {
      // The matched route pattern (`/v1/restrictions/:id`), not the path: bounded label values.
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      logAnswered(logger, { method: req.method, path, route, status: res.statusCode, seconds, requestId, aborted });
    });
    next();
  };
}

/**
 * Builds the gateway's express app.
 * @returns the app, not listening; `bin/gatekeeper.ts` listens, tests use supertest.
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          baseUri: ["'self'"],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          imgSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
        },
      },
    }),
  );
  app.use(requestLog(deps.logger));
  // Each parser only reads its own content type; `message/rfc822` (POST /inbound/email) is left for its route.
  app.use(express.json({ limit: JSON_BODY_LIMIT, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ limit: FORM_BODY_LIMIT, extended: false }));

  app.use(healthRouter(deps.checkReady));
  app.get('/metrics', metricsHandler);

  const limiter = new FailureLimiter(deps.authFailureLimits);
  deps.mount?.(app, {
    auth: bearerAuth(deps.resolveToken, deps.config.adminToken, limiter),
    authDuringOutage: bearerAuth(deps.resolveToken, deps.config.adminToken, limiter, { allowStale: true }),
    requireRole,
  });

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
