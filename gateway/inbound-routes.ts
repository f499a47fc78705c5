/**
 * `POST /inbound/email`: raw `message/rfc822` bodies from machines (role `ingest`) — e.g. a mail
 * provider's webhook or the scanning bureau's uploader. The same door as the SMTP listener: 202 only once
 * the message is durably stored and queued; 503 while it cannot be (the client retries, nothing is lost).
 * The body is streamed and counted against MAX_MESSAGE_BYTES, never buffered past it (413).
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../config/logger';
import type { EmailIngest } from '../channels/email/ingest';
import { RawCollector } from '../channels/email/raw-collector';
import { HttpError, PayloadTooLarge, ServiceUnavailable } from './errors';

/** Dependencies of {@link createInboundEmailRouter}. */
export interface InboundEmailRouteDeps {
  ingest: EmailIngest;
  /** Authentication and role checks run before the body is read, e.g. `[kit.auth, kit.requireRole('ingest')]`. */
  guards: RequestHandler[];
  /** `MAX_MESSAGE_BYTES`. */
  maxMessageBytes: number;
  logger?: Logger;
}

/** Seconds a client is asked to wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = 30;

/** Reads the request body into a collector; resolves when the body has ended (drained, if too large). */
function collectBody(req: Request, collector: RawCollector, hardLimit: number): Promise<void> {
  return new Promise((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      collector.push(chunk);
      // Drain a modestly oversized body so the client reads our 413; cut off one that keeps going.
      if (collector.size > hardLimit) req.destroy();
    });
    req.once('end', resolve);
    req.once('error', reject);
    req.once('close', () => (req.readableEnded ? resolve() : reject(new HttpError(400, 'request-aborted', 'The request was aborted'))));
  });
}

/**
 * The router for `POST /inbound/email`.
 * @param deps ingest door, auth guards, size limit, logger
 */
export function createInboundEmailRouter(deps: InboundEmailRouteDeps): Router {
  const router = Router();
  router.post('/inbound/email', ...deps.guards, async (req: Request, res: Response) => {
    if (!req.is('message/rfc822')) {
      throw new HttpError(415, 'unsupported-media-type', 'POST /inbound/email takes a raw message with Content-Type: message/rfc822');
    }
    // The body is stored as the original, byte for byte: a compressed one would be stored compressed and read
    // as nonsense. Refused, so the sender sends it plain (415 is not retried as if the store were down).
    const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      throw new HttpError(415, 'unsupported-encoding', 'POST /inbound/email takes the message uncompressed (no Content-Encoding)');
    }
    const declared = Number(req.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > deps.maxMessageBytes) {
      res.set('Connection', 'close');
      throw new PayloadTooLarge('message-too-large', `The message exceeds the maximum size of ${deps.maxMessageBytes} bytes`);
    }
    const collector = new RawCollector(deps.maxMessageBytes);
    await collectBody(req, collector, deps.maxMessageBytes * 2);
    if (collector.tooLarge) {
      res.set('Connection', 'close');
      throw new PayloadTooLarge('message-too-large', `The message exceeds the maximum size of ${deps.maxMessageBytes} bytes`);
    }
    if (collector.size === 0) throw new HttpError(400, 'empty-message', 'The request body is empty');
    const message = collector.finish();
    try {
      const outcome = await deps.ingest.ingest(message, { source: 'http' });
      deps.logger?.info('http message accepted', { messageKey: outcome.messageKey, bytes: message.size, duplicate: outcome.duplicate });
      res.status(202).json({ status: 'accepted', messageKey: outcome.messageKey });
    } catch (err) {
      deps.logger?.warn('http message refused: store unavailable', { err: (err as Error).message });
      throw new ServiceUnavailable('store-unavailable', 'The message store is unavailable; try again shortly', RETRY_AFTER_SECONDS);
    }
  });
  return router;
}
