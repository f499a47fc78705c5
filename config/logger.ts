/**
 * The one logger of Gatekeeper: winston, JSON lines, and a redaction step that every entry passes through.
 *
 * Logs must never carry what customers wrote, their phone numbers or their email addresses (DESIGN.md §1,
 * policy on personal data). Redaction is done here, centrally, rather than trusted to every call site:
 * - fields named like a message body (`body`, `text`, `html`, `raw`, `content`, `message-body`, …) are dropped;
 * - fields named like a secret (`authorization`, `token`, `password`, …) are replaced by `[redacted]`;
 * - every string left (the message and all metadata, however deep) has phone numbers and email addresses masked.
 */
import { inspect } from 'node:util';
import winston from 'winston';
import { LOG_LEVELS, type LogLevel } from './defaults';

export type Logger = winston.Logger;

/** Field names (normalised: lower case, no `-`/`_`) whose values are message content and are dropped. */
const BODY_FIELDS = new Set(['body', 'text', 'html', 'raw', 'content', 'messagebody', 'textbody', 'htmlbody', 'rawbody']);
/** Field names whose values are credentials and are replaced. */
const SECRET_FIELDS = new Set(['authorization', 'token', 'password', 'secret', 'cookie', 'authtoken', 'apikey', 'xtwiliosignature']);

const EMAIL = /[\w.!#$%&'*+/=?^`{|}~-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*/gi;
/**
 * A run of digits with the separators people write numbers with (spaces, dots, hyphens, brackets), optionally
 * led by `+`, standing alone (not inside a word or an identifier). Whether it is a phone number is decided by
 * `looksLikePhone`. Not after `<hex>-`, so the last group of a UUID is not taken for a number.
 */
const PHONE_CANDIDATE = /(?<![\w+]|[0-9a-fA-F]{4}-)\+?(?:\(\d+\)|\d)(?:[\d\s().-]*\d)?(?![\w]|-[0-9a-fA-F]{4}-)/g;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** 7 to 15 digits (E.164's maximum, plus a trunk or international prefix), and not a date or an IP address. */
function looksLikePhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '').length;
  if (digits < 7 || digits > 17) return false;
  return !ISO_DATE.test(candidate) && !DOTTED_QUAD.test(candidate);
}

/**
 * Masks email addresses and phone numbers in a string. Errs towards masking: a long number that is not a
 * phone number is masked too, which costs a little readability and never leaks a number.
 */
export function redactText(value: string): string {
  return value
    .replace(EMAIL, '[email]')
    .replace(PHONE_CANDIDATE, (match) => (looksLikePhone(match) ? '[phone]' : match));
}

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/**
 * Deep-copies a log value with content fields dropped, secrets replaced and strings masked. Errors become
 * plain objects (their own properties are not enumerable, so JSON would otherwise log `{}`). Cycles and
 * depth are bounded so that a careless log call cannot hang or crash the process.
 */
export function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (seen.has(value)) return '[circular]';
  if (depth > 8) return '[too deep]';
  seen.add(value);
  try {
    if (value instanceof Date) return value.toISOString();
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (value instanceof Error) {
      const plain: Record<string, unknown> = { name: value.name, message: value.message };
      for (const [k, v] of Object.entries(value)) plain[k] = v;
      if (value.stack !== undefined) plain.stack = value.stack;
      if (value.cause !== undefined) plain.cause = value.cause;
      return redactObject(plain, depth, seen);
    }
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
    if (value instanceof Map) return redactObject(Object.fromEntries(value), depth, seen);
    if (value instanceof Set) return [...value].map((v) => redactValue(v, depth + 1, seen));
    return redactObject(value as Record<string, unknown>, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function redactObject(obj: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    const norm = normaliseKey(key);
    if (BODY_FIELDS.has(norm)) continue;
    out[redactText(key)] = SECRET_FIELDS.has(norm) ? '[redacted]' : redactValue(v, depth + 1, seen);
  }
  return out;
}

/**
 * The winston format that redacts an entry in place. The entry's symbol keys (winston's LEVEL, SPLAT,
 * MESSAGE) are not enumerable by `Object.entries` and are left alone.
 */
export const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    // winston's own fields: fixed vocabularies, and redacting them could only garble them.
    if (key === 'level' || key === 'timestamp') continue;
    const norm = normaliseKey(key);
    if (key !== 'message' && BODY_FIELDS.has(norm)) {
      delete info[key];
    } else if (SECRET_FIELDS.has(norm)) {
      info[key] = '[redacted]';
    } else {
      const value: unknown = info[key];
      // winston puts non-string messages (logger.info({ ... })) here as is; make them text first.
      info[key] = key === 'message' && typeof value !== 'string' ? redactText(inspect(redactValue(value))) : redactValue(value);
    }
  }
  return info;
});

/** Whether `value` is a level `createLogger` accepts. */
export function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Creates a JSON-lines logger with redaction.
 * @param level winston level, or `silent` for none. Default `info`.
 * @param transports where entries go; default one Console transport (stdout). Tests pass a Stream transport.
 */
export function createLogger(level: LogLevel = 'info', transports?: winston.transport[]): Logger {
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      redactFormat(),
      winston.format.json(),
    ),
    defaultMeta: { service: 'gatekeeper' },
    transports: transports ?? [new winston.transports.Console()],
  });
}

/**
 * The process-wide logger. Its level is `LOG_LEVEL` when valid, else `info` — or `silent` under Jest
 * (`NODE_ENV=test`) so that test output stays readable; `bin/gatekeeper.ts` sets the configured level at start.
 */
export const logger: Logger = createLogger(
  isLogLevel(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : process.env.NODE_ENV === 'test' ? 'silent' : 'info',
);

/** Applies a level to an existing logger (`silent` included). */
export function setLogLevel(target: Logger, level: LogLevel): void {
  target.silent = level === 'silent';
  target.level = level === 'silent' ? 'error' : level;
}
