/**
 * Confirming that acknowledged writes survive a failover (Sentinel deployments).
 *
 * Redis replicates asynchronously. In a planned switchover (`SENTINEL FAILOVER`) the replica is promoted
 * while the old primary still accepts writes for a moment; when the old primary is turned into a replica it
 * resyncs and discards them. Without a check, a message or a restriction request answered 250/201 in that
 * moment is gone — the Sentinel suite lost about 130 customers and 130 restriction requests per switchover.
 *
 * So before a sender is told "stored", {@link WriteFence.confirm} shows that the replicas have the writes:
 * 1. on the connection the writes went over, `INFO replication` names the primary they went to (its
 *    replication id; a promoted replica gets a new one) — and the connection must not have reconnected
 *    since the work began, or its writes may be split between two servers;
 * 2. on a fence connection of its own (`WAIT` blocks its connection, and the writes' connection carries
 *    everyone's reads), `INCR` a fence key, then `INFO replication` and `WAIT` for every online replica.
 *    The fence write comes after every write of the work, from any connection, in the primary's one
 *    replication stream, so `WAIT` covers them all. Confirmations that arrive while a round is on its way
 *    share the next round (one `INCR` + `WAIT` for all of them).
 *
 * Refused (StoreUnavailableError: the sender is told 451/503 and retries): a reconnect since the work
 * began; the fence connection on another primary than the writes; a server that is no longer a primary;
 * online replicas that do not all confirm within the timeout; or a primary without replicas that had one
 * less than the grace period ago — the old primary in a switchover. A poller notes every second whether
 * the primary has replicas, so that memory does not depend on writes having been made.
 *
 * A primary that has had no replica for longer than the grace period (its replica's host died and nothing
 * replaced it) is accepted as it is, and reported through `onUnreplicated`: refusing every write until an
 * operator adds a replica would stop the contact centre, while the risk it guards against needs a second
 * failure. On a single server and on a cluster nothing is checked: a single server has no failover to lose
 * writes in, and a cluster's failover is per shard (not covered; see the README).
 */
import { Redis } from 'ioredis';
import { closeConnection, createFenceConnection, waitUntilReady, type RedisConnection } from './connections';
import { StoreUnavailableError } from './errors';

/** The key the fence write increments. One small integer; its value means nothing. */
export const FENCE_KEY = 'gk:durability-fence';

/** Options of {@link WriteConfirmer}. */
export interface WriteConfirmerOptions {
  /** How long the replicas have to confirm a write. @default 500 ms (a healthy replica takes well under 1 ms) */
  timeoutMs?: number;
  /**
   * How long after a primary last had a replica its writes still need one. It must cover the moments
   * between a replica's promotion and the gateway's move to it (`+switch-master`, a few seconds).
   * @default 15 000 ms
   */
  graceMs?: number;
  /** How often the poller looks at the primary's replicas. @default 1 000 ms */
  pollMs?: number;
  /** Called (at most once a minute per primary) when writes are accepted without any replica. */
  onUnreplicated?: (primary: string) => void;
  /**
   * Called once per confirmation with its result: `confirmed` (the replicas have the writes), `unreplicated`
   * (accepted on a primary without replicas) or `refused`. For metrics.
   */
  onResult?: (result: ConfirmationResult) => void;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

/** How one confirmation ended (see {@link WriteConfirmerOptions.onResult}). */
export type ConfirmationResult = 'confirmed' | 'unreplicated' | 'refused';

/** A unit of work's proof of durability: begin it before the writes, confirm it before acknowledging them. */
export interface WriteFence {
  /**
   * Resolves once every write executed so far on the primary is on its replicas (or needs none, see the
   * module notes).
   * @throws StoreUnavailableError when that cannot be shown: the sender must be told to retry
   */
  confirm(): Promise<void>;
}

/** What INFO replication says about the server (only the fields used). */
interface Replication {
  role: string;
  replicas: number;
  replicationId: string;
}

/** Parses the fields of `INFO replication` the confirmation needs. */
export function parseReplicationInfo(info: string): Replication {
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  // Count only replicas that are streaming (state=online); one still loading its first sync cannot confirm.
  const replicas = info.split('\n').filter((line) => /^slave\d+:.*state=online/.test(line)).length;
  return { role: field('role') ?? 'unknown', replicas, replicationId: field('master_replid') ?? '' };
}

/** Reconnect counts per connection, so a fence can tell that its connection changed server under it. */
const readyCounts = new WeakMap<RedisConnection, { count: number }>();

function readyCount(connection: RedisConnection): { count: number } {
  let counter = readyCounts.get(connection);
  if (counter === undefined) {
    const created = { count: 0 };
    connection.on('ready', () => {
      created.count += 1;
    });
    readyCounts.set(connection, created);
    counter = created;
  }
  return counter;
}

/** A fence for connections whose writes need no confirmation. */
const NO_CHECK: WriteFence = { confirm: () => Promise.resolve() };

/** A confirmation waiting for the next fence round: the primary its writes went to. */
interface Waiter {
  primary: string;
  resolve: (replicated: boolean) => void;
  reject: (error: unknown) => void;
}

function refusal(why: string): StoreUnavailableError {
  return new StoreUnavailableError(new Error(`Write not confirmed: ${why}`));
}

/**
 * The `onUnreplicated` report of the gateway's confirmers: one warning, the same whichever part of the
 * process wrote (the staff API, the email ingest).
 */
export function warnUnreplicated(logger: { warn(message: string): unknown }): () => void {
  return () => {
    logger.warn('accepting writes that no replica confirms: the Redis primary has had no replica for a while');
  };
}

/** The confirmer each connection's writers share ({@link sharedWriteConfirmer}). */
const shared = new WeakMap<RedisConnection, WriteConfirmer>();

/**
 * The process's one confirmer for writes over `connection`, made on first use. On Sentinel a confirmer
 * opens a fence connection of its own and polls the primary every second, so every part of a process that
 * writes over the same connection (the staff API, the email ingest, an SMTP role beside a gateway) shares
 * one instead of each running its own. The first caller's options apply; a closed one is made anew.
 */
export function sharedWriteConfirmer(connection: RedisConnection, options: WriteConfirmerOptions = {}): WriteConfirmer {
  let confirmer = shared.get(connection);
  if (confirmer === undefined) {
    confirmer = new WriteConfirmer(connection, options);
    shared.set(connection, confirmer);
  }
  return confirmer;
}

/** Confirms writes made over one connection (see the module notes). */
export class WriteConfirmer {
  private readonly timeoutMs: number;
  private readonly graceMs: number;
  private readonly now: () => number;
  private readonly counter: { count: number } | undefined;
  private readonly fence: Redis | undefined;
  private readonly poller: NodeJS.Timeout | undefined;
  /** When each primary (by replication id) was last seen with a replica online. */
  private readonly replicaSeenAt = new Map<string, number>();
  private readonly reportedAt = new Map<string, number>();
  private waiting: Waiter[] = [];
  private round: Promise<void> | undefined;

  constructor(
    private readonly connection: RedisConnection,
    private readonly options: WriteConfirmerOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 500;
    this.graceMs = options.graceMs ?? 15_000;
    this.now = options.now ?? Date.now;
    if (connection instanceof Redis && (connection.options.sentinels?.length ?? 0) > 0) {
      this.counter = readyCount(connection);
      const fence = createFenceConnection(connection);
      this.fence = fence;
      const poll = (): void => void this.poll(fence);
      this.poller = setInterval(poll, options.pollMs ?? 1000);
      // The poller must not keep a process alive that has nothing else to do.
      this.poller.unref();
      poll();
      fence.once('end', () => clearInterval(this.poller));
    }
  }

  /** Whether this connection's writes are checked at all (Sentinel-backed). */
  get checks(): boolean {
    return this.counter !== undefined;
  }

  /** Starts a unit of work: call before its first write. */
  begin(): WriteFence {
    const counter = this.counter;
    if (counter === undefined) return NO_CHECK;
    const startedAt = counter.count;
    // A connection not up yet (a producer connection still connecting at start-up) may connect once during
    // the unit: everything written then went to the server it is connected to at the end.
    const readiesAllowed = this.connection.status === 'ready' ? 0 : 1;
    return { confirm: () => this.confirm(counter, startedAt, readiesAllowed) };
  }

  /** Stops the poller and closes the fence connection (also done when the confirmed connection ends). */
  async close(): Promise<void> {
    if (shared.get(this.connection) === this) shared.delete(this.connection);
    clearInterval(this.poller);
    if (this.fence !== undefined) await closeConnection(this.fence);
  }

  /**
   * Any failure to show durability is a refusal the sender retries, whatever its cause (an outage, or a
   * server demoted between two commands answering WAIT with an error): never an acknowledgement.
   */
  private async confirm(counter: { count: number }, startedAt: number, readiesAllowed: number): Promise<void> {
    // Not up when the unit began and not up since: nothing of the unit can have been written over it.
    if (readiesAllowed > 0 && counter.count === startedAt && this.connection.status !== 'ready') return;
    let result: ConfirmationResult = 'refused';
    try {
      const info = await this.connection.info('replication');
      // After the read: a reconnect between the writes and here would have sent them to different servers.
      if (counter.count - startedAt > readiesAllowed) throw refusal('the connection moved to another server');
      const writtenTo = parseReplicationInfo(info);
      if (writtenTo.role !== 'master') throw refusal(`the server is a ${writtenTo.role}`);
      const replicated = await new Promise<boolean>((resolve, reject) => {
        this.waiting.push({ primary: writtenTo.replicationId, resolve, reject });
        this.round ??= this.rounds();
      });
      result = replicated ? 'confirmed' : 'unreplicated';
    } catch (err) {
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(err);
    } finally {
      this.options.onResult?.(result);
    }
  }

  /** Runs fence rounds until nobody waits; each round serves everyone who was waiting when it began. */
  private async rounds(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          const { primary, replicated } = await this.fenceRound();
          for (const w of batch) {
            if (w.primary === primary) w.resolve(replicated);
            else w.reject(refusal('the writes went to another primary than the fence'));
          }
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.round = undefined;
    }
  }

  /**
   * One fence round on the fence connection.
   * @returns the replication id of the primary that confirmed, and whether replicas did (else it has none)
   * @throws when the replicas did not confirm, or the primary needs a replica it has not got
   */
  private async fenceRound(): Promise<{ primary: string; replicated: boolean }> {
    const fence = this.fence;
    if (fence === undefined) throw refusal('no fence connection');
    // A fence still making its first connection (or reconnecting) is waited for: only a reconnect during
    // the round itself means it may have moved.
    if (fence.status !== 'ready') await waitUntilReady(fence, 5000);
    const startedAt = readyCount(fence).count;
    const [fenced, info] = (await fence.pipeline().incr(FENCE_KEY).info('replication').exec()) ?? [];
    if (fenced?.[0]) throw fenced[0];
    if (info?.[0]) throw info[0];
    const replication = parseReplicationInfo(String(info?.[1]));
    if (replication.role !== 'master') throw refusal(`the fence's server is a ${replication.role}`);
    const primary = replication.replicationId;
    if (replication.replicas > 0) {
      // Every online replica: with more than one, Sentinel may promote any of them.
      const confirmedBy = await fence.wait(replication.replicas, this.timeoutMs);
      if (readyCount(fence).count !== startedAt) throw refusal('the fence connection moved to another server');
      if (confirmedBy < replication.replicas) throw refusal(`${confirmedBy} of ${replication.replicas} replicas confirmed within ${this.timeoutMs} ms`);
      this.replicaSeenAt.set(primary, this.now());
      return { primary, replicated: true };
    }
    const seenAt = this.replicaSeenAt.get(primary);
    if (seenAt !== undefined && this.now() - seenAt < this.graceMs) throw refusal('the primary lost its replica moments ago (a switchover?)');
    this.reportUnreplicated(primary);
    return { primary, replicated: false };
  }

  /** Notes whether the fence's primary has a replica online (never throws: a failed look is just skipped). */
  private async poll(fence: Redis): Promise<void> {
    try {
      const replication = parseReplicationInfo(await fence.info('replication'));
      if (replication.role === 'master' && replication.replicas > 0) this.replicaSeenAt.set(replication.replicationId, this.now());
    } catch {
      // Unreachable for now; the next poll tries again, and confirmations refuse meanwhile.
    }
  }

  private reportUnreplicated(primary: string): void {
    const last = this.reportedAt.get(primary);
    if (last !== undefined && this.now() - last < 60_000) return;
    this.reportedAt.set(primary, this.now());
    this.options.onUnreplicated?.(primary);
  }
}
