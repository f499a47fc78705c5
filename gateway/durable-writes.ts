/**
 * Holds back the answer to a write until Redis has shown it survives a failover (store/durability.ts).
 *
 * Every staff route that changes something answers through `res.end` (express's `res.json` and `res.send`
 * end there), after its writes. This middleware begins a write fence when the request arrives and, when
 * the route ends a 2xx answer, confirms the fence first: the answer goes out as written once a replica has
 * the writes, or is replaced by 503 `store-unavailable` (with `Retry-After`) so the client retries. Nothing
 * changes for reads, for refusals (the route's own 4xx/5xx), or where the store checks nothing (a single
 * server or a cluster): there the middleware is not even installed.
 */
import type { RequestHandler, Response } from 'express';
import type { WriteConfirmer } from '../store/durability';
import type { ErrorBody } from './errors';

/** Methods that never write. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `res.end`'s overloads, seen as one variadic function so that the held call can be replayed as it was made. */
type EndFn = (this: Response, ...args: unknown[]) => Response;

/**
 * Middleware confirming a request's writes before its 2xx answer is sent (see the module notes).
 * @param writes the store's confirmer (`store.writes`)
 */
export function confirmWritesBeforeAnswering(writes: WriteConfirmer): RequestHandler {
  return (req, res, next) => {
    if (!writes.checks || READS.has(req.method)) {
      next();
      return;
    }
    const fence = writes.begin();
    // Typed loosely on purpose: the overloads of ServerResponse.end cannot be forwarded through one signature.
    const end = res.end as unknown as EndFn;
    let held = false;
    const holding: EndFn = function (this: Response, ...args: unknown[]): Response {
      // Not held: refusals; an answer whose headers already went out (nothing could replace it); and any
      // second end (an error after the answer was held is answered by express as usual).
      if (held || res.headersSent || res.statusCode < 200 || res.statusCode >= 300) return end.apply(res, args);
      held = true;
      fence
        .confirm()
        .then(
          () => {
            if (!res.writableEnded) end.apply(res, args);
          },
          () => {
            if (!res.writableEnded) refuse(res, end);
          },
        )
        // Ending can still fail (the client went away): never leave an unhandled rejection or an open socket.
        .catch(() => res.destroy());
      return res;
    };
    res.end = holding as unknown as Response['end'];
    next();
  };
}

/** Replaces the held answer with 503 `store-unavailable` (the headers are not sent yet: `end` sends them). */
function refuse(res: Response, end: EndFn): void {
  const body = JSON.stringify({
    error: { code: 'store-unavailable', message: 'The change could not be confirmed as stored; try again shortly' },
  } satisfies ErrorBody);
  res.statusCode = 503;
  res.removeHeader('ETag');
  // Not a replay of anything now: the answer is a refusal.
  res.removeHeader('Idempotent-Replayed');
  res.setHeader('Retry-After', '5');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  end.call(res, body);
}
