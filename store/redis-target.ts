/**
 * Where Redis is: one server, a Sentinel-managed primary, or a Cluster (DESIGN.md §4, §5). Every
 * connection factory takes one of these, so the rest of the code never cares which it is.
 */

/** A host and port of a Sentinel or Cluster node. */
export interface HostPort {
  host: string;
  port: number;
}

/** The three topologies Gatekeeper supports. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: HostPort[] }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string };

/** A `host:port,…` list that could not be read. */
export class InvalidRedisTargetError extends Error {
  readonly code = 'invalid-redis-target';

  constructor(message: string) {
    super(message);
    this.name = 'InvalidRedisTargetError';
  }
}

/**
 * Parses `host:port,host:port` (the form of `REDIS_CLUSTER_NODES` and `REDIS_SENTINELS`). IPv6 hosts are
 * written in brackets: `[::1]:7000`.
 */
export function parseHostPorts(list: string): HostPort[] {
  const nodes = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry) => {
      const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[3]);
      const host = match?.[1] ?? match?.[2];
      if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new InvalidRedisTargetError(`Not a host:port pair: "${entry}"`);
      }
      return { host, port };
    });
  if (nodes.length === 0) throw new InvalidRedisTargetError('No host:port pairs given');
  return nodes;
}

/** The environment settings that name a Redis target (DESIGN.md §4). */
export interface RedisTargetSettings {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
}

/**
 * Chooses the target from the environment: Cluster nodes, else Sentinels (which need a primary name),
 * else a URL. Returns `undefined` when none is set (the launcher then runs a local redis-server).
 */
export function redisTargetFromSettings(settings: RedisTargetSettings): RedisTarget | undefined {
  if (settings.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: parseHostPorts(settings.REDIS_CLUSTER_NODES) };
  if (settings.REDIS_SENTINELS) {
    if (!settings.REDIS_SENTINEL_NAME) throw new InvalidRedisTargetError('REDIS_SENTINELS needs REDIS_SENTINEL_NAME');
    return { kind: 'sentinel', sentinels: parseHostPorts(settings.REDIS_SENTINELS), name: settings.REDIS_SENTINEL_NAME };
  }
  if (settings.REDIS_URL) return { kind: 'single', url: settings.REDIS_URL };
  return undefined;
}
