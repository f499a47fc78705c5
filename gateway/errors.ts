/**
 * HTTP errors and the express handlers that turn any thrown error into the fixed error shape
 * `{ "error": { "code", "message" } }` (DESIGN.md §4). A response never carries a stack trace; an unexpected
 * error is logged (without the request body) and answered with a bare 500.
 *
 * | thrown | status, code |
 * |---|---|
 * | `HttpError` (and subclasses) | its own |
 * | `RuleError` (rules/errors.ts) | invalid 422, forbidden 403, conflict 409, not-found 404; its `code` |
 * | store `ConflictError` / `NotFoundError` / `InvalidValueError` | 409 / 404 / 422; its `code` |
 * | `code === 'store-unavailable'` | 503 `store-unavailable`, `Retry-After: 5` |
 * | body-parser: too large / bad JSON | 413 `payload-too-large` / 400 `invalid-json` |
 * | anything else | 500 `internal`, logged |
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../config/logger';
import { ConflictError, InvalidValueError, NotFoundError, StoreUnavailableError } from '../store/errors';
import { YearOutOfRangeError } from '../rules/bank-holidays';

/** The error body every failing endpoint returns. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error that is meant for the client: its status, machine `code` and human `message` are sent as they are. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export class BadRequest extends HttpError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}
export class Unauthorized extends HttpError {
  constructor(code: string, message: string) {
    super(401, code, message, { 'WWW-Authenticate': 'Bearer realm="gatekeeper"' });
  }
}
export class Forbidden extends HttpError {
  constructor(code: string, message: string) {
    super(403, code, message);
  }
}
export class NotFound extends HttpError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}
export class Conflict extends HttpError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}
export class PayloadTooLarge extends HttpError {
  constructor(code: string, message: string) {
    super(413, code, message);
  }
}
export class Unprocessable extends HttpError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}
export class TooManyRequests extends HttpError {
  constructor(code: string, message: string, retryAfterSeconds?: number) {
    super(429, code, message, retryAfterSeconds === undefined ? {} : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}
export class ServiceUnavailable extends HttpError {
  constructor(code: string, message: string, retryAfterSeconds?: number) {
    super(503, code, message, retryAfterSeconds === undefined ? {} : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

/** HTTP status of each `RuleError` kind (rules/errors.ts). */
const RULE_ERROR_STATUS = { invalid: 422, forbidden: 403, conflict: 409, 'not-found': 404 } as const;
type RuleErrorKind = keyof typeof RULE_ERROR_STATUS;

/**
 * A domain refusal from `rules/` (`RuleError`). Recognised by shape rather than class so that the gateway's
 * error mapping does not depend on module identity (and a rule error crossing a worker boundary still maps).
 */
function isRuleError(err: unknown): err is Error & { kind: RuleErrorKind; code: string } {
  if (!(err instanceof Error)) return false;
  const { code, kind } = err as { code?: unknown; kind?: unknown };
  return typeof code === 'string' && typeof kind === 'string' && Object.hasOwn(RULE_ERROR_STATUS, kind);
}

/** The error shape body-parser (via http-errors) gives its failures. */
interface BodyParserError {
  type: string;
  status?: number;
  expose?: boolean;
}
function isBodyParserError(err: unknown): err is Error & BodyParserError {
  return err instanceof Error && typeof (err as { type?: unknown }).type === 'string';
}

/** Translates an error into the response it deserves, or `undefined` for an unexpected one (a 500). */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (isRuleError(err)) return new HttpError(RULE_ERROR_STATUS[err.kind], err.code, err.message);
  if (err instanceof ConflictError) return new Conflict(err.code, err.message);
  if (err instanceof NotFoundError) return new NotFound(err.code, err.message);
  if (err instanceof InvalidValueError) return new Unprocessable(err.code, err.message);
  // By code as well as class: the store's contract is the code (store/errors/store-error.ts).
  if (err instanceof StoreUnavailableError || (err instanceof Error && (err as { code?: unknown }).code === 'store-unavailable')) {
    return new ServiceUnavailable('store-unavailable', 'The restriction store is unavailable; try again shortly', 5);
  }
  // A path parameter that is not valid percent-encoding (`/v1/customers/%E0%A4%A`): the router says 400.
  if (err instanceof URIError && (err as { status?: unknown }).status === 400) {
    return new BadRequest('invalid-path', 'The request path is not valid percent-encoding');
  }
  // A date the rules cannot judge: bank holidays are known for 2000–2099 only (rules/bank-holidays.ts).
  if (err instanceof YearOutOfRangeError) return new Unprocessable(err.code, err.message);
  // A compressed body that does not decompress (zlib's error, which body-parser passes on with status 400).
  const zlibCode = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (typeof zlibCode === 'string' && zlibCode.startsWith('Z_') && (err as { status?: unknown }).status === 400) {
    return new BadRequest('invalid-encoding', 'The request body could not be decompressed');
  }
  if (isBodyParserError(err)) {
    switch (err.type) {
      case 'entity.too.large':
        return new PayloadTooLarge('payload-too-large', 'The request body is too large');
      case 'entity.parse.failed':
        return new BadRequest('invalid-json', 'The request body is not valid JSON');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new HttpError(415, 'unsupported-encoding', 'The request body encoding is not supported');
      case 'request.aborted':
        return new BadRequest('request-aborted', 'The request was aborted');
      case 'parameters.too.many':
        return new PayloadTooLarge('payload-too-large', 'The request has too many parameters');
      default:
        if (err.expose === true && typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
          return new HttpError(err.status, 'bad-request', 'The request body could not be read');
        }
    }
  }
  return undefined;
}

/**
 * The final express error handler. Known errors become their status and body; anything else is logged with
 * the method, path and request id only — never the body, headers or query — and answered 500 `internal`.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      // Too late for a JSON error; express closes the connection.
      next(err);
      return;
    }
    const known = toHttpError(err);
    if (known) {
      if (known.status >= 500) logger.warn('request failed', { status: known.status, code: known.code, method: req.method, path: req.path });
      res.set(known.headers).status(known.status).json({ error: { code: known.code, message: known.message } } satisfies ErrorBody);
      return;
    }
    logger.error('unhandled error', { err, method: req.method, path: req.path, requestId: res.locals.requestId as unknown });
    res.status(500).json({ error: { code: 'internal', message: 'Internal error' } } satisfies ErrorBody);
  };
}

/** Answers any request no route took: 404 `not-found`. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not-found', message: `No route for ${req.method} ${req.path}` } } satisfies ErrorBody);
};
