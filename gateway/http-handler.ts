/**
 * What the gateway's HTTP server runs for each request: the Twilio voice webhooks (gateway/voice-webhooks.ts)
 * for paths under `/voice`, the express app for everything else. The webhooks are served ahead of express
 * because they are the gateway's hot path — every call to the landlord, answered within Twilio's timeout —
 * and need none of express's routing or helpers; the request log, timing and request id that the app's
 * middleware gives its own routes are given to them here.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

import type { Logger } from '../config/logger';
import { logAnswered, onResponseOver, requestIdFor } from './request-log';
import { isVoicePath, type VoiceWebhooks } from './voice-webhooks';

/**
 * The request listener for `http.createServer` (and supertest): `voice` answers `/voice…`, `app` the rest.
 * Without webhooks (no Twilio auth token) every request goes to `app`, which answers `/voice…` 404.
 */
export function gatewayHandler(app: RequestListener, voice: VoiceWebhooks | undefined, logger: Logger): RequestListener {
  if (voice === undefined) return app;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (!isVoicePath(url)) {
      app(req, res);
      return;
    }
    const started = process.hrtime.bigint();
    const requestId = requestIdFor(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', requestId);
    // The one security header that matters for a machine-read XML or JSON answer (the rest are for pages).
    res.setHeader('X-Content-Type-Options', 'nosniff');
    let route = 'unmatched';
    onResponseOver(res, (aborted) => {
      const q = url.indexOf('?');
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      logAnswered(logger, { method: req.method ?? 'GET', path: q === -1 ? url : url.slice(0, q), route, status: res.statusCode, seconds, requestId, aborted });
    });
    route = voice.handle(req, res);
  };
}
