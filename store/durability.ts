/**
 * Confirming that acknowledged writes survive a failover (Sentinel deployments).
 *
 * Redis replicates asynchronously. In a planned switchover (`SENTINEL FAILOVER`) the replica is promoted
 * while the old primary still accepts writes for a moment; when the old primary is turned into a replica it
 * resyncs and discards them. Without a check, a message or a restriction request answered 250/201 in that
 * moment is gone — the Sentinel suite measured about 4% of the writes of a busy switchover lost.
 *
 * So before a sender is told "stored", {@link WriteFence.confirm} asks the primary the writes went to for
 * proof that a replica has them (`WAIT`), after a fence write (`INCR`) that makes the proof cover every write
 * the server executed before it, from any connection (the ingest's BullMQ job is added on another one).
 * What it refuses (StoreUnavailableError, so the sender is told 451/503 and retries):
 * - the connection reconnected since the work began: its writes may be split between two primaries;
 * - the server is no longer a primary;
 * - the primary has replicas but none confirmed within the timeout;
 * - the primary has no replica, but had one recently (within the grace period): that is a switchover in
 *   progress, seen from the old primary.
 *
 * A primary that has had no replica for longer than the grace period (its replica's host died and nothing
 * replaced it) is accepted as it is, and reported through `onUnreplicated`: refusing every write until an
 * operator adds a replica would stop the contact centre, while the risk it guards against needs a second
 * failure. On a single server and on a cluster nothing is checked: a single server has no failover to lose
 * writes in, and a cluster's failover is per shard (not covered; see the README).
 */
import { Redis } from 'ioredis';
import { StoreUnavailableError } from './errors';
import type { RedisConnection } from './connections';

/** The key the fence write increments. One small integer; its value means nothing. */
export const FENCE_KEY = 'gk:durability-fence';

/** Options of {@link WriteConfirmer}. */
export interface WriteConfirmerOptions {
  /** How long a replica has to confirm a write. @default 500 ms (a healthy replica takes well under 1 ms) */
  timeoutMs?: number;
  /** How long after a primary last had a replica its writes still need one. @default 30 000 ms */
  graceMs?: number;
  /** Called (at most once a minute per primary) when writes are accepted without any replica. */
  onUnreplicated?: (primary: string) => void;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

/** A unit of work's proof of durability: begin it before the writes, confirm it before acknowledging them. */
export interface WriteFence {
  /**
   * Resolves once every write executed so far on the primary is on a replica (or needs none, see the module
   * notes).
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

/** Whether `connection` reaches its primary through Sentinel (the only topology checked, see the module notes). */
function isSentinelBacked(connection: RedisConnection): boolean {
  return connection instanceof Redis && (connection.options.sentinels?.length ?? 0) > 0;
}

/** Confirms writes made over one connection (see the module notes). */
export class WriteConfirmer {
  private readonly timeoutMs: number;
  private readonly graceMs: number;
  private readonly now: () => number;
  /** When each primary (by replication id) last confirmed a write on a replica, or showed one online. */
  private readonly replicaSeenAt = new Map<string, number>();
  private readonly reportedAt = new Map<string, number>();
  private readonly counter: { count: number } | undefined;

  constructor(
    private readonly connection: RedisConnection,
    private readonly options: WriteConfirmerOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 500;
    this.graceMs = options.graceMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.counter = isSentinelBacked(connection) ? readyCount(connection) : undefined;
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
    return { confirm: () => this.confirm(counter, startedAt) };
  }

  /**
   * Any failure to show durability is a refusal the sender retries, whatever its cause (an outage, or a
   * server demoted between two of these commands answering WAIT with an error): never an acknowledgement.
   */
  private async confirm(counter: { count: number }, startedAt: number): Promise<void> {
    try {
      await this.check(counter, startedAt);
    } catch (err) {
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(err);
    }
  }

  private async check(counter: { count: number }, startedAt: number): Promise<void> {
    const refuse = (why: string): never => {
      throw new StoreUnavailableError(new Error(`Write not confirmed: ${why}`));
    };
    const [fenced, info] = (await this.connection.pipeline().incr(FENCE_KEY).info('replication').exec()) ?? [];
    if (fenced?.[0]) throw fenced[0];
    if (info?.[0]) throw info[0];
    // After the fence: a reconnect between the writes and here would have sent them to different servers.
    if (counter.count !== startedAt) refuse('the connection moved to another server');
    const replication = parseReplicationInfo(String(info?.[1]));
    if (replication.role !== 'master') refuse(`the server is a ${replication.role}`);
    const primary = replication.replicationId;
    if (replication.replicas > 0) {
      const confirmedBy = await this.connection.wait(1, this.timeoutMs);
      if (counter.count !== startedAt) refuse('the connection moved to another server');
      if (confirmedBy < 1) refuse(`no replica confirmed within ${this.timeoutMs} ms`);
      this.replicaSeenAt.set(primary, this.now());
      return;
    }
    const seenAt = this.replicaSeenAt.get(primary);
    if (seenAt !== undefined && this.now() - seenAt < this.graceMs) refuse('the primary lost its replica moments ago (a switchover?)');
    this.reportUnreplicated(primary);
  }

  private reportUnreplicated(primary: string): void {
    const last = this.reportedAt.get(primary);
    if (last !== undefined && this.now() - last < 60_000) return;
    this.reportedAt.set(primary, this.now());
    this.options.onUnreplicated?.(primary);
  }
}
