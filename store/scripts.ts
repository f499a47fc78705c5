/**
 * The store's Lua scripts, one per atomic operation (store/scripts/<name>-<numkeys>.lua, each opening with
 * its KEYS and ARGV), registered on a connection with `defineCommand` so ioredis runs them by EVALSHA and
 * falls back to EVAL once after a server restart or failover empties the script cache.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from 'ioredis';
import type { RedisConnection } from './connections';

/** Script file name (without `.lua`) → the command name it is registered under. */
const SCRIPTS = {
  'save-restriction-2': 'gkSaveRestriction',
  'put-gate-3': 'gkPutGate',
  'put-identity-snapshot-2': 'gkPutIdentitySnapshot',
  'prune-identities-2': 'gkPruneIdentities',
  'append-audit-once-2': 'gkAppendAuditOnce',
  'compare-and-set-1': 'gkCompareAndSet',
  'lookup-identity-and-get-2': 'gkLookupIdentityAndGet',
} as const;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** save-restriction-2.lua */
    gkSaveRestriction(
      restrictionKey: string,
      restrictionSetKey: string,
      expectedHistoryLength: number,
      json: string,
      restrictionId: string,
    ): Result<string[], Context>;
    /** put-gate-3.lua */
    gkPutGate(gateKey: string, gateRevKey: string, identsKey: string, rev: number, json: string, ...identityKeys: string[]): Result<number, Context>;
    /** put-identity-snapshot-2.lua */
    gkPutIdentitySnapshot(identityKey: string, identityRevKey: string, customerId: string, rev: number, json: string): Result<number, Context>;
    /** prune-identities-2.lua */
    gkPruneIdentities(revKey: string, identsKey: string, rev: number, ...identityKeys: string[]): Result<number, Context>;
    /** append-audit-once-2.lua */
    gkAppendAuditOnce(guardKey: string, streamKey: string, ttlSeconds: number, maxLen: number, ...fields: string[]): Result<[number, string], Context>;
    /** compare-and-set-1.lua */
    gkCompareAndSet(key: string, expected: string, next: string): Result<number, Context>;
    /** lookup-identity-and-get-2.lua */
    gkLookupIdentityAndGet(identityKey: string, otherKey: string): Result<[string[], string | null], Context>;
  }
}

/**
 * Where the .lua files are: next to this module when run from source (tests, ts tooling), or in the
 * source tree when run from `dist/store/` (tsc does not copy non-TypeScript files).
 */
function scriptsDir(): string {
  const candidates = [join(__dirname, 'scripts'), join(__dirname, '..', '..', 'store', 'scripts')];
  const found = candidates.find((dir) => existsSync(join(dir, 'save-restriction-2.lua')));
  if (found === undefined) throw new Error(`Lua scripts not found in ${candidates.join(' or ')}`);
  return found;
}

let sources: Map<string, { lua: string; numberOfKeys: number }> | undefined;

function loadSources(): Map<string, { lua: string; numberOfKeys: number }> {
  if (sources) return sources;
  const dir = scriptsDir();
  sources = new Map(
    Object.entries(SCRIPTS).map(([file, command]) => {
      // The key count is part of the file name, so it cannot drift from what the script documents.
      const numberOfKeys = Number(/-(\d+)$/.exec(file)?.[1]);
      return [command, { lua: readFileSync(join(dir, `${file}.lua`), 'utf8'), numberOfKeys }];
    }),
  );
  return sources;
}

const looseSources = new Map<string, string>();

/**
 * The source of a script registered by its own module (with a variable key count, or under the module's
 * own command name) rather than by {@link defineScripts}: `fileName` is the file in store/scripts/, e.g.
 * `record-contacts-many.lua`. Read once per process.
 */
export function scriptSource(fileName: string): string {
  const known = looseSources.get(fileName);
  if (known !== undefined) return known;
  const lua = readFileSync(join(scriptsDir(), fileName), 'utf8');
  looseSources.set(fileName, lua);
  return lua;
}

const defined = new WeakSet<RedisConnection>();

/** Registers the store's scripts on `connection` (once per connection; later calls do nothing). */
export function defineScripts(connection: RedisConnection): void {
  if (defined.has(connection)) return;
  for (const [name, definition] of loadSources()) connection.defineCommand(name, definition);
  defined.add(connection);
}
