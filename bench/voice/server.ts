/**
 * The process under load (forked by run.ts, so the load generator does not share its event loop): one HTTP
 * server serving both
 * - `POST /baseline/incoming` — the baseline: an express route doing one Redis GET, then sending a fixed
 *   TwiML string; and
 * - `POST /voice/*` — Gatekeeper's real voice webhooks over the real store, served as the gateway serves
 *   them (gateway/http-handler.ts: ahead of the express app, with the request log and timing): body and
 *   signature check, parameter parsing, one lookup command, the decision, TwiML rendering, and the
 *   CallSid's claim and evidence written after the answer.
 * Both share the gate's fail-fast lookup connection.
 *
 * Usage: node server.js <redis-url> <port> <public-url> <auth-token>
 */
import { createServer } from 'node:http';
import { parse as parseForm } from 'node:querystring';

import express from 'express';

import { BackgroundTasks } from '../../channels/voice/background';
import { EVIDENCE_WINDOW_MS } from '../../channels/voice/call-recorder';
import { RedisCallSessions } from '../../channels/voice/call-session';
import { createEvidenceThread } from '../../channels/voice/evidence-thread';
import { EMERGENCY_PHRASES } from '../../config/emergency-phrases';
import { createLogger } from '../../config/logger';
import { gatewayHandler } from '../../gateway/http-handler';
import { createVoiceWebhooks } from '../../gateway/voice-webhooks';
import { closeConnection, createLookupConnection, createStore, createStoreConnection, waitUntilReady } from '../../store';

/** What the baseline answers: a fixed TwiML document of about the size of a real answer. */
const BASELINE_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="/voice/status?step=route" method="POST" answerOnBridge="true">+441632960000</Dial></Response>';

async function main(): Promise<void> {
  const [redisUrl, portArg, publicUrl, authToken] = process.argv.slice(2);
  if (!redisUrl || !portArg || !publicUrl || !authToken) throw new Error('usage: server.js <redis-url> <port> <public-url> <auth-token>');
  const target = { kind: 'single' as const, url: redisUrl };
  const storeConnection = createStoreConnection(target, { name: 'bench' });
  const lookup = createLookupConnection(target, { name: 'bench' });
  await Promise.all([waitUntilReady(storeConnection), waitUntilReady(lookup)]);
  const store = createStore(storeConnection, { lookup });
  const logger = createLogger('error');
  // As in gateway/compose.ts: the evidence written after each answer is waited for at shutdown.
  const background = new BackgroundTasks((task, error) => logger.error('background task failed', { task, code: (error as { code?: unknown }).code }));

  // As in gateway/compose.ts: evidence is written on its own thread, with this thread as the fallback.
  const calls = new RedisCallSessions(lookup);
  const evidenceThread = createEvidenceThread({ target, calls, store, events: storeConnection, logger, logLevel: 'error' });

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));

  app.post('/baseline/incoming', async (_req, res) => {
    await lookup.get('bench:baseline');
    res.status(200).type('text/xml').send(BASELINE_TWIML);
  });

  const webhooks = createVoiceWebhooks({
    config: {
      publicUrl,
      twilioAuthToken: authToken,
      emergencyNumber: '+441632960999',
      emergencyDigit: '1',
      voiceDefaultRoute: { kind: 'dial', number: '+441632960000' },
      voiceLookupBudgetMs: 150,
    },
    settings: {
      timeZone: 'Europe/London',
      emergencyNumber: '+441632960999',
      writeToAddress: 'Customer Relations, PO Box 1, London',
      writeToEmail: 'housing@example.org',
      repeatThreshold: 0.8,
      emergencyPhrases: EMERGENCY_PHRASES,
    },
    gate: store.gate,
    calls,
    evidenceWriter: evidenceThread,
    evidenceWindowMs: EVIDENCE_WINDOW_MS,
    contacts: store.contacts,
    audit: store.audit,
    events: storeConnection,
    logger,
    background,
  });

  const gateway = gatewayHandler(app, webhooks, logger);
  // For reference only (not the issue's baseline): the baseline's work on node's own request and response.
  const server = createServer((req, res) => {
    if (req.url !== '/baseline-node/incoming') {
      gateway(req, res);
      return;
    }
    // Read and parse the form, as any webhook must to know who is calling.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      parseForm(Buffer.concat(chunks).toString('utf8'));
      lookup.get('bench:baseline').then(
        () => {
          res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(BASELINE_TWIML) });
          res.end(BASELINE_TWIML);
        },
        () => {
          res.writeHead(503);
          res.end();
        },
      );
    });
  });
  server.listen(Number(portArg), '127.0.0.1', () => process.send?.('ready'));
  server.keepAliveTimeout = 65_000;
  process.on('SIGTERM', () => {
    server.close();
    void background
      .idle()
      .then(() => evidenceThread.close())
      .then(() => Promise.all([closeConnection(lookup), closeConnection(storeConnection)]))
      .then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
