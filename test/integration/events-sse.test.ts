/**
 * `GET /v1/events` against a real redis-server and the real app: screen-pops published on `gk:events` reach
 * the right consoles, and only those.
 */
import { EVENTS_CHANNEL, isFor } from '../../gateway/events-routes';
import { startTestApp, type TestApp } from '../support/test-app';

/** An SSE frame as read off the wire. */
interface Frame {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Reads an event stream with fetch(), as the console does; frames are queued until taken. */
class SseClient {
  private buffer = '';
  private readonly frames: Frame[] = [];
  private waiting: (() => void) | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  status = 0;

  static async open(url: string, token?: string): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(`${url}/v1/events`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: client.abort.signal,
    });
    client.status = response.status;
    if (response.ok && response.body) void client.pump(response.body.getReader());
    else await response.text();
    return client;
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          this.frames.push(parseFrame(this.buffer.slice(0, end)));
          this.buffer = this.buffer.slice(end + 2);
        }
        this.waiting?.();
      }
    } catch {
      // Aborted by close().
    }
    this.closed = true;
    this.waiting?.();
  }

  /** The next frame that is an event (not a comment), waiting for it if need be. */
  async nextEvent(): Promise<Frame> {
    for (;;) {
      const i = this.frames.findIndex((f) => f.event !== undefined || f.data !== undefined);
      if (i >= 0) return this.frames.splice(i, 1)[0] as Frame;
      if (this.closed) throw new Error('stream closed');
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /** Waits until a comment frame has arrived (the `connected` greeting, heartbeats). */
  async nextComment(): Promise<Frame> {
    for (;;) {
      const i = this.frames.findIndex((f) => f.comment !== undefined);
      if (i >= 0) return this.frames.splice(i, 1)[0] as Frame;
      if (this.closed) throw new Error('stream closed');
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  close(): void {
    this.abort.abort();
  }
}

function parseFrame(text: string): Frame {
  const frame: Frame = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('event: ')) frame.event = line.slice(7);
    else if (line.startsWith('id: ')) frame.id = line.slice(4);
    else if (line.startsWith('data: ')) frame.data = (frame.data ?? '') + line.slice(6);
  }
  return frame;
}

const pop = (extra: Record<string, unknown>) => ({
  type: 'screen-pop',
  channel: 'voice',
  customerId: 'C1',
  restrictionId: 'R1',
  outcome: 'proceed',
  reasons: ['named-contact'],
  agentFlags: ['Named contact: Jo Smith', 'Emergencies are always put through, whatever the restriction'],
  at: '2025-11-24T15:00:00.000Z',
  contactId: 'CA0001',
  ...extra,
});

describe('GET /v1/events', () => {
  let gk: TestApp;
  let jsmith: string;
  let akhan: string;
  let manager: string;
  let ingest: string;
  const open: SseClient[] = [];

  const connect = async (token?: string): Promise<SseClient> => {
    const client = await SseClient.open(gk.url, token);
    open.push(client);
    if (client.status === 200) await client.nextComment();
    return client;
  };

  const publish = (event: Record<string, unknown>) => gk.connection.publish(EVENTS_CHANNEL, JSON.stringify(event));

  beforeAll(async () => {
    gk = await startTestApp({ heartbeatMs: 200, parts: [] });
    jsmith = await gk.addStaff({ id: 'jsmith', name: 'Jo Smith', email: 'jo@example.org', roles: ['tenancy-specialist'] });
    akhan = await gk.addStaff({ id: 'akhan', name: 'Ali Khan', email: 'ali@example.org', roles: ['agent'] });
    manager = await gk.addStaff({ id: 'mgr', name: 'Mo Green', email: 'mo@example.org', roles: ['ts-manager'] });
    ingest = await gk.addStaff({ id: 'scanner', name: 'Scanner', email: 'scan@example.org', roles: ['ingest'] });
  });

  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });

  afterAll(async () => {
    await gk?.stop();
  });

  it('refuses a stream without a token (401) or with a bad one (401), and to a machine role (403)', async () => {
    expect((await connect()).status).toBe(401);
    expect((await connect('gk_not-a-real-token')).status).toBe(401);
    expect((await connect(ingest)).status).toBe(403);
  });

  it('refuses a token in the URL (401 token-in-url), even beside a valid Authorization header', async () => {
    for (const name of ['access_token', 'token']) {
      const res = await fetch(`${gk.url}/v1/events?${name}=${encodeURIComponent(akhan)}`, { headers: { authorization: `Bearer ${akhan}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token-in-url');
    }
  });

  it('answers as an event stream that nothing caches', async () => {
    const response = await fetch(`${gk.url}/v1/events`, { headers: { Authorization: `Bearer ${akhan}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toMatch(/no-cache/);
    await response.body?.cancel();
  });

  it('sends a pop routed to a member of staff to them and nobody else', async () => {
    const named = await connect(jsmith);
    const other = await connect(akhan);

    await publish(pop({ routeTo: 'jsmith', contactId: 'CA-routed' }));
    // Then one for everybody: pub/sub keeps order, so if the agent's FIRST event is this one, the routed
    // pop never reached them.
    await publish(pop({ contactId: 'CA-broadcast' }));

    const first = await named.nextEvent();
    expect(first.event).toBe('screen-pop');
    expect(first.id).toBe('CA-routed');
    expect(JSON.parse(first.data ?? '{}')).toEqual(pop({ routeTo: 'jsmith', contactId: 'CA-routed' }));

    const agentsFirst = await other.nextEvent();
    expect(agentsFirst.id).toBe('CA-broadcast');
    // The named tenancy specialist also answers contacts, so the broadcast reaches them as well.
    expect((await named.nextEvent()).id).toBe('CA-broadcast');
  });

  it('sends a pop that names no one to every signed-in agent, not to managers', async () => {
    const agent = await connect(akhan);
    const tsManager = await connect(manager);
    await publish(pop({ contactId: 'CA-everyone' }));
    await publish(pop({ routeTo: 'mgr', contactId: 'CA-for-manager' }));
    expect((await agent.nextEvent()).id).toBe('CA-everyone');
    expect((await tsManager.nextEvent()).id).toBe('CA-for-manager');
  });

  it('fans one published event out to every console of the same person', async () => {
    const desk = await connect(akhan);
    const laptop = await connect(akhan);
    await publish(pop({ contactId: 'CA-both' }));
    expect((await desk.nextEvent()).id).toBe('CA-both');
    expect((await laptop.nextEvent()).id).toBe('CA-both');
  });

  it('ignores what is not a screen-pop and keeps the stream going', async () => {
    const agent = await connect(akhan);
    await gk.connection.publish(EVENTS_CHANNEL, 'not json');
    await publish({ type: 'something-else' });
    await publish(pop({ agentFlags: 'not a list' }));
    await publish(pop({ contactId: 'CA-good' }));
    expect((await agent.nextEvent()).id).toBe('CA-good');
  });

  it('sends heartbeat comments while idle', async () => {
    const agent = await connect(akhan);
    expect((await agent.nextComment()).comment).toBe('heartbeat');
  });

  it('forgets a console once its stream is closed', async () => {
    // Streams of earlier tests are closed by the browser side; the server notices shortly after.
    const settle = async (size: number) => {
      for (let i = 0; i < 200 && gk.events.hub.size !== size; i += 1) await new Promise((r) => setTimeout(r, 10));
    };
    await settle(0);
    expect(gk.events.hub.size).toBe(0);
    const agent = await connect(akhan);
    expect(gk.events.hub.size).toBe(1);
    agent.close();
    await settle(0);
    expect(gk.events.hub.size).toBe(0);
  });

  // Last: the test Redis keeps no data across a restart, so the staff tokens are gone afterwards.
  it('keeps consoles connected through a Redis restart, and relays again once resubscribed', async () => {
    const agent = await connect(akhan);
    await gk.redis.stop();
    await gk.redis.restart();
    // PUBLISH answers how many subscribers got it: 1 once the hub's connection is back and resubscribed.
    // The probe is not a screen-pop, so the hub ignores it.
    let subscribers = 0;
    for (let i = 0; i < 200 && subscribers < 1; i += 1) {
      subscribers = await gk.connection.publish(EVENTS_CHANNEL, JSON.stringify({ type: 'probe' })).catch(() => 0);
      if (subscribers < 1) await new Promise((r) => setTimeout(r, 50));
    }
    expect(subscribers).toBe(1);
    await publish(pop({ contactId: 'CA-after-restart' }));
    expect((await agent.nextEvent()).id).toBe('CA-after-restart');
  });
});

describe('isFor', () => {
  const staff = (id: string, roles: Array<'agent' | 'staff' | 'tenancy-specialist' | 'ts-manager' | 'manager'>) => ({ id, roles });

  it('routes a named pop to that person only, whatever their role', () => {
    expect(isFor({ routeTo: 'jsmith' }, staff('jsmith', ['ts-manager']))).toBe(true);
    expect(isFor({ routeTo: 'jsmith' }, staff('akhan', ['agent']))).toBe(false);
  });

  it('sends an unnamed pop to agents, staff and tenancy specialists, not to managers', () => {
    expect(isFor({}, staff('a', ['agent']))).toBe(true);
    expect(isFor({}, staff('s', ['staff']))).toBe(true);
    expect(isFor({}, staff('t', ['tenancy-specialist']))).toBe(true);
    expect(isFor({}, staff('m', ['manager', 'ts-manager']))).toBe(false);
  });
});
