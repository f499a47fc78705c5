/**
 * A voice gateway under test: a real redis-server, the real store, the real voice webhooks ahead of an express app
 * (as gateway/http-handler.ts serves them),
 * and requests signed by the twilio library. Shared by the voice integration suites.
 */
import type { RequestListener } from 'node:http';

import express from 'express';
import request from 'supertest';

import { BackgroundTasks } from '../../channels/voice/background';
import type { DecideFn, VoiceLogger } from '../../channels/voice/call-flow';
import { EVIDENCE_WINDOW_MS } from '../../channels/voice/call-recorder';
import { RedisCallSessions } from '../../channels/voice/call-session';
import { createEvidenceThread, type EvidenceThread } from '../../channels/voice/evidence-thread';
import type { VoiceRoute } from '../../config/env';
import { EMERGENCY_PHRASES } from '../../config/emergency-phrases';
import { createLogger } from '../../config/logger';
import { notFoundHandler } from '../../gateway/errors';
import { gatewayHandler } from '../../gateway/http-handler';
import { createVoiceWebhooks } from '../../gateway/voice-webhooks';
import type { DecisionSettings, Measure, Restriction, RestrictionException, Staff } from '../../rules/types';
import {
  closeConnection,
  createLookupConnection,
  createStore,
  createStoreConnection,
  createSubscriberConnection,
  waitUntilReady,
  type RedisConnection,
  type Store,
} from '../../store';
import { startRedis, type TestRedis } from '../support/redis-server';
import { sign } from './voice-support';

export const AUTH_TOKEN = 'voice-test-auth-token-0123456789';
export const PUBLIC_URL = 'https://gk.example.org';
export const EMERGENCY_NUMBER = '+441632960999';
export const DEFAULT_NUMBER = '+441632960000';
export const WORKFLOW_SID = 'WW0123456789abcdef0123456789abcdef';

export const SETTINGS: DecisionSettings = {
  timeZone: 'Europe/London',
  emergencyNumber: EMERGENCY_NUMBER,
  writeToAddress: 'Customer Relations, PO Box 1, London',
  writeToEmail: 'housing@example.org',
  repeatThreshold: 0.8,
  emergencyPhrases: EMERGENCY_PHRASES,
};

/** A log line as the router wrote it. */
export interface LogLine {
  level: 'warn' | 'error';
  message: string;
  meta: Record<string, unknown> | undefined;
}

/** A logger that keeps what it is told, so tests can check no number leaks into logs. */
export class MemoryLogger implements VoiceLogger {
  readonly lines: LogLine[] = [];
  warn(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, meta });
  }
  error(message: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, meta });
  }
  /** Everything logged, as one string (errors by name, message and code). */
  text(): string {
    return JSON.stringify(this.lines, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v));
  }
}

/** One voice app over the harness's store. */
export interface VoiceApp {
  /** The request listener: the webhooks for `/voice…`, a bare express app (404s) for the rest. */
  app: RequestListener;
  background: BackgroundTasks;
  logger: MemoryLogger;
  failures: Array<{ task: string; error: unknown }>;
  /** With `app({ evidenceThread: true })`: the thread writing the evidence (close it when done). */
  evidenceThread?: EvidenceThread;
}

/** The running parts of a voice test. */
export class VoiceHarness {
  clock = new Date('2025-11-24T15:00:00Z');
  readonly events: Array<Record<string, unknown>> = [];

  private constructor(
    readonly redis: TestRedis,
    readonly storeConnection: RedisConnection,
    readonly lookupConnection: RedisConnection,
    readonly subscriber: RedisConnection,
    readonly store: Store,
  ) {}

  /** Starts redis-server, connects, and subscribes to screen-pops. */
  static async start(redisArgs: string[] = []): Promise<VoiceHarness> {
    const redis = await startRedis(redisArgs);
    const target = { kind: 'single' as const, url: redis.url };
    const storeConnection = createStoreConnection(target);
    const lookupConnection = createLookupConnection(target);
    const subscriber = createSubscriberConnection(target);
    await waitUntilReady(lookupConnection);
    const store = createStore(storeConnection, { lookup: lookupConnection });
    const harness = new VoiceHarness(redis, storeConnection, lookupConnection, subscriber, store);
    subscriber.on('message', (_channel: string, message: string) => harness.events.push(JSON.parse(message) as Record<string, unknown>));
    await subscriber.subscribe('gk:events');
    return harness;
  }

  /** Builds a voice app (the webhooks over this store) with the given default route. */
  app(
    options: {
      route?: VoiceRoute;
      publicUrl?: string;
      budgetMs?: number;
      decide?: DecideFn;
      emergencyDigit?: string;
      evidenceThread?: boolean;
      bodyDeadlineMs?: number;
    } = {},
  ): VoiceApp {
    const failures: VoiceApp['failures'] = [];
    const background = new BackgroundTasks((task, error) => failures.push({ task, error }));
    const logger = new MemoryLogger();
    const calls = new RedisCallSessions(this.lookupConnection);
    // As gateway/compose.ts wires it: the thread over the same Redis, this thread's writer as its fallback.
    const target = { kind: 'single' as const, url: this.redis.url };
    const evidenceThread = options.evidenceThread
      ? createEvidenceThread({ target, calls, store: this.store, events: this.storeConnection, logger, name: 'voice-test' })
      : undefined;
    const rest = express();
    rest.use(notFoundHandler);
    const webhooks = createVoiceWebhooks({
        config: {
          publicUrl: options.publicUrl ?? PUBLIC_URL,
          twilioAuthToken: AUTH_TOKEN,
          emergencyNumber: EMERGENCY_NUMBER,
          emergencyDigit: options.emergencyDigit ?? '1',
          voiceDefaultRoute: options.route ?? { kind: 'dial', number: DEFAULT_NUMBER },
          voiceLookupBudgetMs: options.budgetMs ?? 150,
        },
        settings: SETTINGS,
        gate: this.store.gate,
        calls,
        contacts: this.store.contacts,
        audit: this.store.audit,
        events: this.storeConnection,
        now: () => this.clock,
        logger,
        background,
        ...(options.decide !== undefined ? { decide: options.decide } : {}),
        ...(options.bodyDeadlineMs !== undefined ? { bodyDeadlineMs: options.bodyDeadlineMs } : {}),
        ...(evidenceThread !== undefined ? { evidenceWriter: evidenceThread, evidenceWindowMs: EVIDENCE_WINDOW_MS } : {}),
      });
    const app = gatewayHandler(rest, webhooks, createLogger('silent'));
    return { app, background, logger, failures, ...(evidenceThread !== undefined ? { evidenceThread } : {}) };
  }

  async stop(): Promise<void> {
    await Promise.all([closeConnection(this.subscriber), closeConnection(this.lookupConnection), closeConnection(this.storeConnection)]);
    await this.redis.stop();
  }

  /** Waits until pub/sub has delivered `count` events (pub/sub is asynchronous even on one server). */
  async eventsArrived(count: number): Promise<void> {
    for (let i = 0; i < 200 && this.events.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  }
}

/** POSTs a Twilio-signed form to `path` (which may carry a query string). */
export function signedPost(
  app: RequestListener,
  path: string,
  params: Record<string, string>,
  options: { publicUrl?: string; signature?: string; sentParams?: Record<string, string>; headers?: Record<string, string> } = {},
): request.Test {
  const signature = options.signature ?? sign(AUTH_TOKEN, `${options.publicUrl ?? PUBLIC_URL}${path}`, params);
  let req = request(app).post(path).type('form').set('X-Twilio-Signature', signature);
  for (const [k, v] of Object.entries(options.headers ?? {})) req = req.set(k, v);
  return req.send(options.sentParams ?? params);
}

/** A member of staff. */
export function staff(id: string, name: string, extra: Partial<Staff> = {}): Staff {
  return { id, name, email: `${id}@example.org`, roles: ['tenancy-specialist'], ...extra };
}

/** An active restriction with the given measures (approved well before the tests' clock). */
export function activeRestriction(id: string, customerId: string, measures: Measure[], extra: Partial<Restriction> = {}): Restriction {
  return {
    id,
    customerId,
    status: 'active',
    category: 'excessive-contact',
    summary: 'test',
    evidence: [{ type: 'call-log', reference: 'E1' }],
    authorisedBy: 'mgr',
    warnings: [{ type: 'formal', date: '2025-01-01' }],
    requestedBy: 'agent1',
    requestedAt: '2025-01-01T09:00:00.000Z',
    approvedBy: 'tsm',
    approvedAt: '2025-01-02T09:00:00.000Z',
    measures,
    startsAt: '2025-01-02T09:00:00.000Z',
    reviewAt: '2026-06-30T00:00:00.000Z',
    singlePointOfContact: 'jsmith',
    adjustments: [],
    exceptions: [] as RestrictionException[],
    appealed: false,
    reviews: [],
    history: [{ action: 'approve', from: 'pending-approval', to: 'active', by: 'tsm', at: '2025-01-02T09:00:00.000Z' }],
    ...extra,
  };
}
