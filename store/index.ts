/**
 * store/ — everything Gatekeeper keeps in Redis: customers, staff and tokens, restrictions, the identity
 * index the gate resolves contacts with, recorded contacts and responses, and the audit log.
 * The key layout is documented in keys.ts, the connection kinds in connections.ts, each atomic script
 * in scripts/. Nothing outside store/ talks to Redis for these records.
 *
 * ```ts
 * const store = createStore(createStoreConnection(target), { lookup: createLookupConnection(target) });
 * const who = await store.gate.resolveOrUnavailable({ phone: callerId });
 * ```
 */
import { Cluster } from 'ioredis';
import { AuditLog } from './audit-log';
import type { RedisConnection } from './connections';
import { ContactRepository } from './contact-repository';
import { CustomerRepository } from './customer-repository';
import { sharedWriteConfirmer, type WriteConfirmer, type WriteConfirmerOptions } from './durability';
import { GateRepository } from './gate-repository';
import { ResponseRepository } from './response-repository';
import { RestrictionRepository } from './restriction-repository';
import { SnapshotWriter } from './snapshot-writer';
import { StaffRepository } from './staff-repository';

/** Options of {@link createStore}. */
export interface StoreOptions {
  /** The gate's fail-fast connection (createLookupConnection). @default the store connection */
  lookup?: RedisConnection;
  /** Region for reading national phone formats. @default 'GB' */
  region?: string;
  /** Retention of contact texts (and responded texts), in days. @default 400 */
  textRetentionDays?: number;
  /** Approximate bound on the audit stream's length. @default 1_000_000 */
  auditMaxLength?: number;
  /** How long audit `appendOnce` keys are remembered, in seconds. @default 7 days */
  auditOnceTtlSeconds?: number;
  /** How acknowledged writes are confirmed on a replica (Sentinel only; see durability.ts). */
  durability?: WriteConfirmerOptions;
}

/** All repositories over one connection, plus the readiness checks /readyz needs. */
export interface Store {
  customers: CustomerRepository;
  staff: StaffRepository;
  restrictions: RestrictionRepository;
  gate: GateRepository;
  contacts: ContactRepository;
  responses: ResponseRepository;
  audit: AuditLog;
  /** Rebuilds gate snapshots; exposed for repair tooling (e.g. after restoring a backup). */
  snapshots: SnapshotWriter;
  /**
   * Confirms writes before they are acknowledged: `const fence = store.writes.begin()` before writing,
   * `await fence.confirm()` before answering 2xx (Sentinel only; see durability.ts).
   */
  writes: WriteConfirmer;
  /** Whether Redis answers PING within a second (every primary, on a cluster). Never throws. */
  ping(): Promise<boolean>;
  /**
   * `maxmemory-policy` of the server (`noeviction` is required: evicting a restriction would silently
   * stop enforcing it). `'unknown'` where CONFIG is disabled (managed Redis) or Redis is unreachable;
   * on a cluster, the first primary whose policy is not `noeviction`, else `noeviction`.
   */
  evictionPolicy(): Promise<string>;
}

/** The primaries of a cluster, or the connection itself. */
function nodesOf(connection: RedisConnection): RedisConnection[] {
  return connection instanceof Cluster ? connection.nodes('master') : [connection];
}

/** How long a readiness probe waits for each node before calling it unreachable. */
const PROBE_TIMEOUT_MS = 1000;

/** `promise`, or `fallback` if it has not settled (or has failed) within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function policyOf(node: RedisConnection): Promise<string> {
  try {
    const reply = (await within(node.config('GET', 'maxmemory-policy') as Promise<unknown>, PROBE_TIMEOUT_MS, undefined)) as unknown;
    const value = Array.isArray(reply) ? reply[1] : undefined;
    return typeof value === 'string' ? value : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Builds every repository over `connection` (see {@link StoreOptions}). */
export function createStore(connection: RedisConnection, options: StoreOptions = {}): Store {
  const snapshots = new SnapshotWriter(connection);
  const region = options.region ?? 'GB';
  const retention = options.textRetentionDays === undefined ? {} : { textRetentionDays: options.textRetentionDays };
  const audit: { maxLength?: number; onceTtlSeconds?: number } = {};
  if (options.auditMaxLength !== undefined) audit.maxLength = options.auditMaxLength;
  if (options.auditOnceTtlSeconds !== undefined) audit.onceTtlSeconds = options.auditOnceTtlSeconds;
  // Made when first asked for: on Sentinel it opens a fence connection and polls the primary, which only
  // the processes that acknowledge writes need (not workers, nor the voice evidence thread).
  let writes: WriteConfirmer | undefined;
  return {
    customers: new CustomerRepository(connection, snapshots, { region }),
    staff: new StaffRepository(connection, snapshots, { region }),
    restrictions: new RestrictionRepository(connection, snapshots),
    gate: new GateRepository(options.lookup ?? connection, { region }),
    contacts: new ContactRepository(connection, { ...retention, region }),
    responses: new ResponseRepository(connection, retention),
    audit: new AuditLog(connection, audit),
    snapshots,
    get writes() {
      writes ??= sharedWriteConfirmer(connection, options.durability);
      return writes;
    },
    async ping() {
      try {
        const nodes = nodesOf(connection);
        if (nodes.length === 0) return false;
        const replies = await Promise.all(nodes.map((node) => within(node.ping(), PROBE_TIMEOUT_MS, 'unreachable')));
        return replies.every((reply) => reply === 'PONG');
      } catch {
        return false;
      }
    },
    async evictionPolicy() {
      const policies = await Promise.all(nodesOf(connection).map(policyOf));
      return policies.find((p) => p !== 'noeviction') ?? (policies.length > 0 ? 'noeviction' : 'unknown');
    },
  };
}

export { AuditLog, type AuditLogOptions, DEFAULT_AUDIT_MAX_LENGTH } from './audit-log';
export {
  closeConnection,
  createEvidenceConnection,
  createLookupConnection,
  createQueueConnection,
  createStoreConnection,
  createSubscriberConnection,
  createWorkerConnection,
  waitUntilReady,
  type ConnectionOptions,
  type RedisConnection,
} from './connections';
export { ContactRepository, type ContactRepositoryOptions, DEFAULT_TEXT_RETENTION_DAYS } from './contact-repository';
export { CustomerRepository, normaliseCustomer, type CustomerRepositoryOptions } from './customer-repository';
export { sharedWriteConfirmer, WriteConfirmer, type WriteConfirmerOptions, type WriteFence } from './durability';
export * from './errors';
export { buildGateSnapshot, toEnforcedRestriction, toStaffRef, staffIdsNamedIn } from './gate-snapshot';
export { GateRepository, type ContactIdentity, type GateRepositoryOptions, type ResolveOptions } from './gate-repository';
export { isUnavailable } from './guard';
export { isWithheldCallerId, normaliseEmail, normalisePhone } from './identity';
export { parseHostPorts, redisTargetFromSettings, InvalidRedisTargetError, type HostPort, type RedisTarget, type RedisTargetSettings } from './redis-target';
export { ResponseRepository, type ResponseRepositoryOptions } from './response-repository';
export { RestrictionRepository } from './restriction-repository';
export { SnapshotWriter } from './snapshot-writer';
export { StaffRepository, hashToken, TOKEN_PREFIX, type StaffRepositoryOptions } from './staff-repository';
export type { AuditEntry, AuditRecord, ContactPatch, RecordedResponse, ResponseInput, StoredContact } from './types';
