/**
 * `GET /v1/events`: server-sent events that carry screen-pops to the agent console (DESIGN.md §4).
 *
 * The channels publish each screen-pop once, as JSON on the Redis pub/sub channel `gk:events`; every gateway
 * instance holds ONE subscriber connection and fans the events out to the consoles connected to it. A pop
 * that names a member of staff (`routeTo`) goes only to that person's consoles; one that names nobody goes
 * to every signed-in agent. Nothing is replayed: a screen-pop is about a call ringing now.
 *
 * The console authenticates with `Authorization: Bearer …` (it reads the stream with fetch(), because
 * EventSource cannot send headers) — never with a token in the URL, which would end up in access logs.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../config/logger';
import type { Role, Staff } from '../rules/types';
import type { RedisConnection } from '../store/connections';
import { requireRole } from './auth';
import { Unauthorized } from './errors';

/** The pub/sub channel the channels publish screen-pops on (channels/voice/screen-pop.ts). */
export const EVENTS_CHANNEL = 'gk:events';

/** How often a comment line is sent so proxies and the browser see the stream is alive. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** How long closing waits for Redis to confirm the UNSUBSCRIBE. */
const UNSUBSCRIBE_WAIT_MS = 1000;

/** A client that has this much unsent data is too slow to be useful; its stream is ended (it reconnects). */
const MAX_BUFFERED_BYTES = 1_000_000;

/** Roles whose consoles receive pops that name no one: the people who answer the phones and the post. */
const POP_ROLES: readonly Role[] = ['agent', 'staff', 'tenancy-specialist'];

/** Who may open the stream at all: any person on the staff (not `admin` alone, not the `ingest` machine). */
const STREAM_ROLES: Role[] = ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager'];

/**
 * The screen-pop as the channels publish it. Checked loosely (`passthrough`) so a channel can add a field
 * without the gateway dropping its events; anything without the core fields is ignored.
 */
const screenPopSchema = z
  .object({
    type: z.literal('screen-pop'),
    channel: z.string().max(20),
    customerId: z.string().max(200).optional(),
    restrictionId: z.string().max(200).optional(),
    routeTo: z.string().max(200).optional(),
    outcome: z.string().max(20),
    reasons: z.array(z.string().max(60)).max(30),
    agentFlags: z.array(z.string().max(500)).max(50),
    at: z.string().max(40),
    contactId: z.string().max(300),
  })
  .passthrough();

/** A screen-pop event relayed to consoles. */
export type ScreenPop = z.infer<typeof screenPopSchema>;

/** One connected console. */
interface Client {
  staff: Staff;
  res: Response;
  heartbeat: NodeJS.Timeout;
}

/** The part of an ioredis connection the hub uses. */
type Subscriber = Pick<RedisConnection, 'subscribe' | 'unsubscribe' | 'on' | 'off'>;

/** Options of {@link EventHub}. */
export interface EventHubOptions {
  /** @default {@link DEFAULT_HEARTBEAT_MS} */
  heartbeatMs?: number;
  logger?: Logger;
}

/**
 * Fans the events of one Redis subscriber connection out to the connected consoles. Subscribes once, when
 * built; ioredis resubscribes by itself after a reconnect.
 */
export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly heartbeatMs: number;
  private readonly logger: Logger | undefined;
  private readonly subscribed: Promise<void>;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel === EVENTS_CHANNEL) this.dispatch(message);
  };

  constructor(
    private readonly subscriber: Subscriber,
    options: EventHubOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.logger = options.logger;
    subscriber.on('message', this.onMessage);
    this.subscribed = subscriber.subscribe(EVENTS_CHANNEL).then(
      () => undefined,
      (err: unknown) => {
        // ioredis keeps trying and resubscribes on reconnect; consoles simply get nothing meanwhile.
        this.logger?.warn('events: subscribe failed', { err });
      },
    );
  }

  /** Resolves once the first SUBSCRIBE has been answered (or has failed). */
  ready(): Promise<void> {
    return this.subscribed;
  }

  /** How many consoles are connected to this instance. */
  get size(): number {
    return this.clients.size;
  }

  /** Starts the event stream on `res` for `staff`, until the client goes away or {@link close} is called. */
  attach(req: Request, res: Response, staff: Staff): void {
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, no-transform',
      Connection: 'keep-alive',
      // nginx and similar proxies would otherwise buffer the stream and pops would arrive in bursts.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setKeepAlive(true);
    req.socket.setNoDelay(true);
    // A short retry hint for EventSource-style clients; the console runs its own backoff.
    res.write(`retry: 3000\n: connected\n\n`);

    const client: Client = {
      staff,
      res,
      heartbeat: setInterval(() => this.write(client, ': heartbeat\n\n'), this.heartbeatMs),
    };
    client.heartbeat.unref();
    this.clients.add(client);
    const detach = (): void => this.detach(client);
    req.on('close', detach);
    res.on('close', detach);
  }

  /**
   * Ends every open stream; consoles reconnect by themselves (with backoff). Used when draining an instance
   * before it stops, so its consoles move to the other instances.
   */
  endStreams(): void {
    for (const client of [...this.clients]) {
      this.detach(client);
      client.res.end();
    }
  }

  /** Ends every stream (at shutdown, so the HTTP server can close) and stops listening. */
  async close(): Promise<void> {
    this.endStreams();
    this.subscriber.off('message', this.onMessage);
    // The subscriber waits through outages, so an UNSUBSCRIBE may never be answered while Redis is away;
    // shutdown must not hang on it (the connection is closed right after), so it gets a second at most.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, UNSUBSCRIBE_WAIT_MS);
      timer.unref();
    });
    try {
      await Promise.race([this.subscriber.unsubscribe(EVENTS_CHANNEL).then(() => undefined), late]);
    } catch {
      // The connection is going away anyway.
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one published message to the consoles it is for. */
  private dispatch(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      this.logger?.warn('events: ignored a message that is not JSON');
      return;
    }
    const result = screenPopSchema.safeParse(parsed);
    if (!result.success) {
      this.logger?.warn('events: ignored a message that is not a screen-pop');
      return;
    }
    const pop = result.data;
    // One JSON line: JSON.stringify never emits a raw newline, so it cannot break the event framing.
    const frame = `event: screen-pop\nid: ${sanitiseId(pop.contactId)}\ndata: ${JSON.stringify(pop)}\n\n`;
    for (const client of this.clients) {
      if (isFor(pop, client.staff)) this.write(client, frame);
    }
  }

  private write(client: Client, frame: string): void {
    if (client.res.writableEnded || client.res.destroyed) {
      this.detach(client);
      return;
    }
    if (client.res.writableLength > MAX_BUFFERED_BYTES) {
      this.detach(client);
      client.res.end();
      return;
    }
    client.res.write(frame);
  }

  private detach(client: Client): void {
    clearInterval(client.heartbeat);
    this.clients.delete(client);
  }
}

/** An SSE `id:` field may not hold a line break; contact ids never should, but a bad one must not split a frame. */
function sanitiseId(id: string): string {
  return id.replace(/[\r\n]/g, '');
}

/**
 * Whether `staff` should see `pop`: the named member of staff only; or, when it names no one, everyone whose
 * role answers contacts.
 */
export function isFor(pop: Pick<ScreenPop, 'routeTo'>, staff: Pick<Staff, 'id' | 'roles'>): boolean {
  if (pop.routeTo !== undefined && pop.routeTo !== '') return pop.routeTo === staff.id;
  return staff.roles.some((role) => POP_ROLES.includes(role));
}

/** What {@link createEventsRouter} needs. */
export interface EventsRouterDeps {
  /** A connection dedicated to SUBSCRIBE (store/connections.ts createSubscriberConnection), one per process. */
  subscriber: Subscriber;
  /** Bearer-token authentication (gateway/auth.ts bearerAuth, or MountKit.auth). */
  authenticate: RequestHandler;
  heartbeatMs?: number;
  logger?: Logger;
}

/** Query parameters that carry a credential by convention (OAuth's `access_token`, and the like). */
const TOKEN_PARAMS = new Set(['access_token', 'token', 'auth', 'authorization', 'bearer', 'key', 'api_key']);

/**
 * Refuses a stream asked for with a credential in its URL (401 `token-in-url`), even when the header
 * carries one too: URLs end up in access logs and browser history, so a client that puts a token there
 * must be told, not quietly served.
 */
const refuseTokenInUrl: RequestHandler = (req, _res, next) => {
  if (Object.keys(req.query).some((name) => TOKEN_PARAMS.has(name.toLowerCase()))) {
    throw new Unauthorized('token-in-url', 'Send the token in the Authorization header, never in the URL');
  }
  next();
};

/** The events router, with its hub so the process can end the streams at shutdown (`router.hub.close()`). */
export type EventsRouter = Router & { hub: EventHub };

/**
 * Builds the router for `GET /v1/events`: mount it at `/v1/events`, before the staff API's `/v1` router so
 * the token is checked once.
 */
export function createEventsRouter(deps: EventsRouterDeps): EventsRouter {
  const hub = new EventHub(deps.subscriber, {
    ...(deps.heartbeatMs !== undefined ? { heartbeatMs: deps.heartbeatMs } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const router = Router();
  router.get('/', refuseTokenInUrl, deps.authenticate, requireRole(...STREAM_ROLES), (req, res) => {
    hub.attach(req, res, res.locals.staff as Staff);
  });
  return Object.assign(router, { hub });
}
