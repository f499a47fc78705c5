/**
 * The boundary between ioredis and the domain: client and server failures that mean "Redis cannot be
 * used right now" become StoreUnavailableError; everything else (our own typed errors, programming
 * errors such as WRONGTYPE) passes through untouched, so a bug is never mistaken for an outage.
 */
import { ReplyError } from 'ioredis';
import { CorruptRecordError, StoreError, StoreUnavailableError } from './errors';

/** Error replies meaning the server is up but cannot serve us now (failover, loading, full, busy script). */
const UNAVAILABLE_REPLY = /^(OOM|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|NOREPLICAS|NOAUTH|WRONGPASS)\b/;

/** Messages of ioredis's own client-side failures (closed, not writable, timeouts, cluster unreachable). */
const UNAVAILABLE_CLIENT =
  /Connection is closed|Stream isn't writeable|Command timed out|None of startup nodes|Cluster is disconnect|Cluster isn't ready|Node is disconnected|Too many Cluster redirections|Failed to refresh slots|ETIMEDOUT|ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN/;

const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/** Whether `error` means Redis is unreachable or temporarily unable to serve, rather than a bug. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StoreError) return error instanceof StoreUnavailableError;
  if (UNAVAILABLE_NAMES.has(error.name)) return true;
  // An error reply from the server (RESP2 ReplyError, RESP3 SimpleError/BlobError all extend it).
  if (error instanceof ReplyError) {
    // A MULTI refused because a queued command was (e.g. OOM): judge by the commands' own errors.
    const previous = (error as { previousErrors?: unknown }).previousErrors;
    if (error.message.startsWith('EXECABORT') && Array.isArray(previous)) return previous.some(isUnavailable);
    return UNAVAILABLE_REPLY.test(error.message);
  }
  const code = (error as { code?: unknown }).code;
  return UNAVAILABLE_CLIENT.test(error.message) || (typeof code === 'string' && UNAVAILABLE_CLIENT.test(code));
}

/**
 * Runs a store operation, translating outage errors into StoreUnavailableError. Every public repository
 * method goes through this, so callers only ever see the store's typed errors for outages.
 */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof StoreUnavailableError || !isUnavailable(error)) throw error;
    throw new StoreUnavailableError(error);
  }
}

/** Parses a JSON value the store wrote; a value that is not JSON is a CorruptRecordError naming the key. */
export function parseRecord<T>(key: string, raw: string): T {
  try {
    return JSON.parse(raw) as T;
  } catch (error) {
    throw new CorruptRecordError(key, error);
  }
}

/** Parses an optional stored value: `null` (missing key) gives `undefined`. */
export function parseOptional<T>(key: string, raw: string | null | undefined): T | undefined {
  return raw === null || raw === undefined ? undefined : parseRecord<T>(key, raw);
}

/**
 * Unwraps a MULTI/pipeline reply: throws the first per-command error (translated by {@link guard} upstream)
 * and returns the results in order. `null` (an aborted EXEC) is reported as a conflict by the caller.
 */
export function execResults(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (replies === null) throw new Error('Transaction aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
