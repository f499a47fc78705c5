/**
 * Connection factories, one per job a connection does. They differ in how they behave when Redis is slow
 * or gone, which is the whole point of having several:
 *
 * | factory | used by | when Redis is down |
 * |---|---|---|
 * | {@link createLookupConnection} | the gate (live calls) | fails in well under a second, so the call proceeds flagged |
 * | {@link createStoreConnection} | repositories, staff API, ingest | retries briefly, then fails (SMTP 4xx, HTTP 503) |
 * | {@link createEvidenceConnection} | the voice evidence thread | as the store's (auto-pipelined) |
 * | {@link createQueueConnection} | BullMQ producers (`Queue`) | fails fast, the caller answers 4xx/503 |
 * | {@link createWorkerConnection} | BullMQ `Worker`s | waits forever and resumes (BullMQ requires `maxRetriesPerRequest: null`) |
 * | {@link createSubscriberConnection} | pub/sub for server-sent events | waits, then resubscribes |
 *
 * No connection uses `keyPrefix` (see keys.ts). Each sets a `connectionName` so `CLIENT LIST` shows who
 * is who.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from './errors';
import type { RedisTarget } from './redis-target';

/** A connection to any of the supported topologies. */
export type RedisConnection = Redis | Cluster;

/** Options common to every factory. */
export interface ConnectionOptions {
  /**
   * Suffix of the connection name (`gatekeeper-<purpose>-<name>`), e.g. the instance's role.
   * @default the process id
   */
  name?: string;
  /**
   * Receives connection-level errors (refused, reset). ioredis emits them as `error` events; without a
   * listener it prints them to stderr. Commands that fail still reject on their own.
   * @default ignore them: failures surface on the commands, as StoreUnavailableError.
   */
  onError?: (error: Error) => void;
}

/** The per-purpose settings a factory feeds to {@link connect}. */
interface Profile {
  purpose: string;
  redis: RedisOptions;
  /** Delay before reconnect attempt `times` (1-based); capped so recovery is noticed quickly. */
  retry: (times: number) => number;
  enableOfflineQueue: boolean;
}

/** Exponential backoff from `base` ms, capped at `cap` ms. */
function cappedBackoff(base: number, cap: number): (times: number) => number {
  return (times) => Math.min(base * 2 ** Math.max(0, times - 1), cap);
}

/** How to stop the switchover watchers of a sentinel-backed connection (see followSwitchovers). */
const stopWatchers = new WeakMap<RedisConnection, () => void>();

/**
 * Reconnects `connection` when the sentinels announce a new primary for `target.name` (`+switch-master`)
 * while it is connected, so that it stops writing to the old primary at once. Without this, a planned
 * failover leaves it on the old primary until Sentinel converts that to a replica (several seconds later),
 * and every write acknowledged in between is lost when the old primary resyncs. While the connection is
 * already reconnecting nothing is done: that reconnect asks the sentinels anyway. The watchers close with
 * the connection.
 */
function followSwitchovers(connection: Redis, target: Extract<RedisTarget, { kind: 'sentinel' }>, connectionName: string): void {
  const watchers = target.sentinels.map(({ host, port }) => {
    const watcher = new Redis({
      host,
      port,
      connectionName: `${connectionName}-switchovers`,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    watcher.on('error', () => undefined);
    watcher.on('message', (channel: string, message: string) => {
      if (channel === '+switch-master' && message.split(' ')[0] === target.name && connection.status === 'ready') connection.disconnect(true);
    });
    watcher.subscribe('+switch-master').catch(() => undefined);
    return watcher;
  });
  const stop = (): void => {
    for (const watcher of watchers) watcher.disconnect();
  };
  connection.once('end', stop);
  // A connection closed while reconnecting never emits `end`; closeConnection() stops the watchers itself.
  stopWatchers.set(connection, stop);
}

/** Builds the client for the target's topology with one profile's settings; the factories differ only in profile. */
function connect(target: RedisTarget, profile: Profile, options: ConnectionOptions): RedisConnection {
  const connectionName = `gatekeeper-${profile.purpose}-${options.name ?? String(process.pid)}`;
  const redis: RedisOptions = { ...profile.redis, connectionName };
  let connection: RedisConnection;
  switch (target.kind) {
    case 'single':
      connection = new Redis(target.url, { ...redis, retryStrategy: profile.retry, enableOfflineQueue: profile.enableOfflineQueue });
      break;
    case 'sentinel': {
      const sentinelBacked = new Redis({
        ...redis,
        sentinels: target.sentinels,
        name: target.name,
        retryStrategy: profile.retry,
        sentinelRetryStrategy: profile.retry,
        enableOfflineQueue: profile.enableOfflineQueue,
        // Every reconnect asks the sentinels for the current primary; followSwitchovers() makes a live
        // connection reconnect when they announce a new one. Not ioredis' own `failoverDetector`: in ioredis 6.0
        // it disconnects the connector even while a reconnect is under way, that reconnect then fails with
        // "Connection is closed." and the connection ends for good (a worker stops taking jobs, the gateway
        // never becomes ready again).
        failoverDetector: false,
        // A primary demoted under us answers writes with READONLY: reconnect (to the new primary, via the
        // sentinels) and resend the command, which READONLY guarantees was not applied.
        reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
      });
      followSwitchovers(sentinelBacked, target, connectionName);
      connection = sentinelBacked;
      break;
    }
    case 'cluster':
      connection = new Cluster(target.nodes, {
        redisOptions: redis,
        clusterRetryStrategy: profile.retry,
        enableOfflineQueue: profile.enableOfflineQueue,
        // Auto-pipelining is a cluster-level option (it batches per node); node options do not carry it.
        enableAutoPipelining: redis.enableAutoPipelining ?? false,
      });
      break;
  }
  connection.on('error', options.onError ?? (() => undefined));
  return connection;
}

/**
 * The gate's connection: a live call waits on it, so it fails fast instead of queueing. Commands time out
 * after 150 ms; while disconnected they are rejected at once (no offline queue); reconnects back off from
 * 50 ms up to 1 s, so a recovered Redis is used again within a second.
 *
 * Because nothing is queued, wait for {@link waitUntilReady} at start-up before serving calls.
 */
export function createLookupConnection(target: RedisTarget, options: ConnectionOptions = {}): RedisConnection {
  return connect(
    target,
    {
      purpose: 'lookup',
      redis: {
        commandTimeout: 150,
        connectTimeout: 1000,
        maxRetriesPerRequest: 1,
        // A lookup nobody waits for any more is worthless after a reconnect.
        autoResendUnfulfilledCommands: false,
        // Concurrent calls' HGETALLs go out in one write.
        enableAutoPipelining: true,
      },
      retry: cappedBackoff(50, 1000),
      enableOfflineQueue: false,
    },
    options,
  );
}

/**
 * The repositories' normal connection. Commands issued while reconnecting wait in the offline queue for
 * two reconnect attempts (at most about a second: reconnects back off from 50 ms to 500 ms), then
 * reject; a single command that hangs fails after 5 s. So ingest answers 4xx/503 promptly instead of
 * holding a sender's connection open, and the sender retries. (A Sentinel failover takes longer than
 * that; writes during one fail and are retried by their senders, which is the point of answering 4xx.)
 */
export function createStoreConnection(target: RedisTarget, options: ConnectionOptions = {}): RedisConnection {
  return connect(
    target,
    {
      purpose: 'store',
      redis: { commandTimeout: 5000, connectTimeout: 5000, maxRetriesPerRequest: 2 },
      retry: cappedBackoff(50, 500),
      enableOfflineQueue: true,
    },
    options,
  );
}

/**
 * For writing evidence of calls after they have been answered (the voice channel's evidence thread). Like
 * {@link createStoreConnection} — it may wait briefly through a reconnect, since nobody is waiting on it —
 * but auto-pipelined: its commands come in batches (a claim, a contact and an audit entry per call, for
 * every call answered in one turn of the gateway's event loop), and auto-pipelining sends each batch's
 * commands in one write.
 */
export function createEvidenceConnection(target: RedisTarget, options: ConnectionOptions = {}): RedisConnection {
  return connect(
    target,
    {
      purpose: 'evidence',
      redis: { commandTimeout: 5000, connectTimeout: 5000, maxRetriesPerRequest: 2, enableAutoPipelining: true },
      retry: cappedBackoff(50, 500),
      enableOfflineQueue: true,
    },
    options,
  );
}

/**
 * For BullMQ `Queue` (producers): adding a job while Redis is down must fail so the caller can refuse the
 * message (4xx/503) rather than accept it into memory. BullMQ's own advice for producers.
 */
export function createQueueConnection(target: RedisTarget, options: ConnectionOptions = {}): RedisConnection {
  return connect(
    target,
    {
      purpose: 'queue',
      redis: { connectTimeout: 5000, maxRetriesPerRequest: 3 },
      retry: cappedBackoff(100, 2000),
      enableOfflineQueue: false,
    },
    options,
  );
}

/**
 * For BullMQ `Worker`s: blocking commands must survive outages, so requests retry forever
 * (`maxRetriesPerRequest: null`, which BullMQ requires) and reconnects back off from 1 s to 20 s.
 */
export function createWorkerConnection(target: RedisTarget, options: ConnectionOptions = {}): RedisConnection {
  return connect(
    target,
    {
      purpose: 'worker',
      redis: { connectTimeout: 5000, maxRetriesPerRequest: null },
      retry: (times) => Math.max(Math.min(Math.exp(times), 20_000), 1000),
      enableOfflineQueue: true,
    },
    options,
  );
}

/**
 * For SUBSCRIBE (server-sent events to agents): waits through outages and resubscribes on reconnect
 * (ioredis `autoResubscribe`, on by default).
 */
export function createSubscriberConnection(target: RedisTarget, options: ConnectionOptions = {}): RedisConnection {
  return connect(
    target,
    {
      purpose: 'subscriber',
      redis: { connectTimeout: 5000, maxRetriesPerRequest: null },
      retry: cappedBackoff(100, 5000),
      enableOfflineQueue: true,
    },
    options,
  );
}

/**
 * Resolves once the connection is ready for commands; rejects with StoreUnavailableError after
 * `timeoutMs`. Needed before using a connection without an offline queue.
 */
export async function waitUntilReady(connection: RedisConnection, timeoutMs = 10_000): Promise<void> {
  if (connection.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      connection.off('ready', onReady);
      reject(new StoreUnavailableError(new Error(`Redis not ready after ${timeoutMs} ms (status ${connection.status})`)));
    }, timeoutMs);
    connection.once('ready', onReady);
  });
}

/**
 * A second connection to the primary `parent` reaches through Sentinel, for a command that blocks its
 * connection (`WAIT`, store/durability.ts) and so must not sit in front of `parent`'s other traffic. Same
 * settings, follows switchovers like `parent`, and closes when `parent` ends.
 * @param parent a Sentinel-backed connection made by one of the factories here
 */
export function createFenceConnection(parent: Redis): Redis {
  const { sentinels, name, connectionName } = parent.options;
  // Queued while (re)connecting, but never for long: a fence that cannot be run soon is a refusal anyway.
  const fence = parent.duplicate({
    connectionName: `${connectionName ?? 'gatekeeper'}-fence`,
    enableOfflineQueue: true,
    commandTimeout: 5000,
    maxRetriesPerRequest: 2,
  });
  fence.on('error', () => undefined);
  if (sentinels !== undefined && sentinels !== null && sentinels.length > 0 && name !== undefined) {
    const hosts = sentinels.map((s) => ({ host: s.host ?? '127.0.0.1', port: s.port ?? 26379 }));
    followSwitchovers(fence, { kind: 'sentinel', sentinels: hosts, name }, `${connectionName ?? 'gatekeeper'}-fence`);
  }
  parent.once('end', () => void closeConnection(fence));
  return fence;
}

/**
 * Closes a connection: QUIT when it is up (replies already on the way are delivered), otherwise drops
 * it and stops reconnecting. Never throws, never hangs on a dead server.
 */
export async function closeConnection(connection: RedisConnection): Promise<void> {
  stopWatchers.get(connection)?.();
  if (connection.status === 'ready') {
    try {
      await connection.quit();
    } catch {
      // The server went away between the status check and QUIT; disconnecting below is all that is left.
    }
  }
  // Also after QUIT: it ends the data connection only, while disconnect() also closes the Sentinel
  // failover detector's subscriber connections, which would otherwise keep the process alive.
  connection.disconnect();
}
