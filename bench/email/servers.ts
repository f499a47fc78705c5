/**
 * The two processes under load (forked by run.ts, so the load generator shares neither their event loop
 * nor their memory), chosen by the first argument:
 *
 * - `baseline <port>` — an smtp-server with the listener's settings that accepts every message and
 *   discards it: the least an MX can do.
 * - `gatekeeper <port> <redis-url> <sink-url> <data-dir>` — the real thing in one process: the SMTP
 *   listener over the durable ingest, and the written-contact workers (process-message, forward, digest,
 *   acknowledge) over the real store, forwarding to the sink run.ts listens on.
 *
 * Each sends 'ready' over IPC once listening.
 */
import { SMTPServer } from 'smtp-server';
import { createSmtpRelayTransport } from '../../channels/email/outbound';
import { loadConfig } from '../../config/env';
import { createLogger } from '../../config/logger';
import { createStore, createStoreConnection, waitUntilReady } from '../../store';
import { createEmailIngestion, startSmtpRole } from '../../workers/email-ingestion';
import { startEmailWorkers } from '../../workers/email-workers';

export const BENCH_DOMAIN = 'landlord.example';

async function baseline(port: number): Promise<void> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 25 * 1024 * 1024,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => callback());
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

async function gatekeeper(port: number, redisUrl: string, sinkUrl: string, dataDir: string): Promise<void> {
  const config = loadConfig({
    REDIS_URL: redisUrl,
    SMTP_PORT: String(port),
    SMTP_DOMAINS: BENCH_DOMAIN,
    MAILBOX_DEFAULT: `housing@${BENCH_DOMAIN}`,
    MAILBOX_EMERGENCY: `emergency@${BENCH_DOMAIN}`,
    MAILBOX_PRINT: `print@${BENCH_DOMAIN}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
  });
  const logger = createLogger('error');
  const target = { kind: 'single' as const, url: redisUrl };
  const redis = createStoreConnection(target, { name: 'bench' });
  await waitUntilReady(redis);
  const store = createStore(redis);
  const ingestion = createEmailIngestion({ config, target, redis, logger });
  await startSmtpRole(config, ingestion.ingest, logger);
  await startEmailWorkers({
    config,
    logger,
    target,
    redis,
    store,
    mail: createSmtpRelayTransport({ url: sinkUrl, maxConnections: 4 }),
    processConcurrency: Number(process.env.BENCH_PROCESS_CONCURRENCY ?? 4),
  });
}

async function main(): Promise<void> {
  // A normal exit on SIGTERM, so `node --cpu-prof` (BENCH_PROFILE) can write its profile.
  process.on('SIGTERM', () => process.exit(0));
  const [role, port, ...rest] = process.argv.slice(2);
  if (role === 'baseline' && port) await baseline(Number(port));
  else if (role === 'gatekeeper' && port && rest.length === 3) await gatekeeper(Number(port), rest[0]!, rest[1]!, rest[2]!);
  else throw new Error('usage: servers.js baseline <port> | gatekeeper <port> <redis-url> <sink-url> <data-dir>');
  process.send?.('ready');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
