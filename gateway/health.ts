/**
 * Liveness and readiness. `/healthz` says the process serves HTTP (restart it if not); `/readyz` says it can
 * do its job (send it traffic only if so): Redis answers, and Redis will refuse writes rather than evict the
 * data the gate depends on (`maxmemory-policy noeviction`).
 */
import { Router } from 'express';
import type { Cluster, Redis } from 'ioredis';

/** The outcome of a readiness check: `checks` names each part and its state, for operators. */
export interface ReadyResult {
  ok: boolean;
  checks: Record<string, string>;
}
export type ReadyCheck = () => Promise<ReadyResult>;

/**
 * Routes `GET /healthz` (always 200 `{status:'ok'}`) and `GET /readyz` (200 `{status:'ready', checks}` or 503
 * `{status:'not-ready', checks}`; a check that throws counts as not ready).
 */
export function healthRouter(checkReady: ReadyCheck): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    let result: ReadyResult;
    try {
      result = await checkReady();
    } catch (err) {
      result = { ok: false, checks: { readiness: `check failed: ${err instanceof Error ? err.message : String(err)}` } };
    }
    res
      .set('Cache-Control', 'no-store')
      .status(result.ok ? 200 : 503)
      .json({ status: result.ok ? 'ready' : 'not-ready', checks: result.checks });
  });
  return router;
}

class CheckTimeout extends Error {
  readonly code = 'check-timeout';
}

/** Resolves with `promise`, or rejects after `ms` (the command itself is left to ioredis' own handling). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function isCluster(redis: Redis | Cluster): redis is Cluster {
  return 'nodes' in redis && typeof (redis as Cluster).nodes === 'function' && (redis as { isCluster?: boolean }).isCluster === true;
}

/** `CONFIG GET maxmemory-policy` → the policy, from the flat `[name, value]` reply. */
async function policyOf(node: Redis, timeoutMs: number): Promise<string | undefined> {
  const reply = (await within(node.config('GET', 'maxmemory-policy'), timeoutMs)) as unknown;
  return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
}

/**
 * A readiness check over a Redis connection (single, Sentinel or Cluster — for a cluster every master is
 * checked): PING answers within `timeoutMs`, and `maxmemory-policy` is `noeviction`.
 *
 * Where `CONFIG` is refused (some managed Redis services rename it) the policy cannot be read; that is
 * reported as `unverified` but does not fail readiness, since the operator sets it in the service's console.
 * @param timeoutMs per command. Default `1000`.
 */
export function redisReadiness(redis: Redis | Cluster, timeoutMs = 1000): ReadyCheck {
  return async (): Promise<ReadyResult> => {
    const nodes: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
    if (nodes.length === 0) return { ok: false, checks: { redis: 'unreachable: no cluster masters known' } };
    try {
      await Promise.all(nodes.map((node) => within(node.ping(), timeoutMs)));
    } catch (err) {
      return { ok: false, checks: { redis: `unreachable: ${err instanceof Error ? err.message : String(err)}` } };
    }

    const policies = new Set<string>();
    for (const node of nodes) {
      try {
        policies.add((await policyOf(node, timeoutMs)) ?? 'unknown');
      } catch (err) {
        if (err instanceof CheckTimeout) return { ok: false, checks: { redis: `unreachable: ${err.message}` } };
        return { ok: true, checks: { redis: 'ok', 'maxmemory-policy': 'unverified (CONFIG GET refused)' } };
      }
    }
    const wrong = [...policies].filter((p) => p !== 'noeviction');
    if (wrong.length > 0) {
      return { ok: false, checks: { redis: 'ok', 'maxmemory-policy': `${wrong.join(', ')} (must be noeviction: evicting Redis loses restrictions and queued jobs)` } };
    }
    return { ok: true, checks: { redis: 'ok', 'maxmemory-policy': 'noeviction' } };
  };
}
