/**
 * Property-based and mutation fuzzing of the staff API's request bodies (fast-check): random JSON values,
 * and near-valid bodies with a few fields deleted, replaced, added or retyped. Whatever arrives, the gateway
 * answers — never a 5xx — and every refusal is a 4xx in the `{ error: { code, message } }` shape; afterwards
 * it still serves and still enforces the restriction it held before.
 *
 * Requests go over a real socket with keep-alive (fetch), so hundreds of runs per endpoint stay fast.
 */
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { CATEGORIES, CHANNELS, REASON_CODES, WEEKDAYS } from '../../rules/types';
import { startGateway, type GatewayHarness } from '../support/gateway-harness';

const RUNS = 200;
/** `<status> <error code>` → how often the current property saw it. */
const seen = new Map<string, number>();

let h: GatewayHarness;
let server: Server;
let base = '';
const tokens: Record<string, string> = {};
let activeRestrictionId = '';

/** What one request got back. */
interface Answer {
  status: number;
  contentType: string;
  body: unknown;
}

async function send(method: 'POST' | 'PUT', path: string, token: string, body: string): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text: the assertions below then fail with the text in view.
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: parsed };
}

/** The contract for any answer: no 5xx; a 4xx carries exactly the error shape; a 2xx carries JSON. */
function checkAnswer(answer: Answer, sent: unknown): void {
  const code = (answer.body as { error?: { code?: string } } | null)?.error?.code ?? '';
  seen.set(`${answer.status} ${code}`.trim(), (seen.get(`${answer.status} ${code}`.trim()) ?? 0) + 1);
  if (answer.status >= 500 || !answer.contentType.startsWith('application/json')) {
    throw new Error(`${answer.status} ${JSON.stringify(answer.body)} for ${JSON.stringify(sent).slice(0, 2000)}`);
  }
  if (answer.status >= 400) {
    expect(answer.status).toBeLessThan(500);
    expect(answer.body).toEqual({ error: { code: expect.stringMatching(/^[a-z0-9-]+$/), message: expect.any(String) } });
    expect((answer.body as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
  } else {
    expect(answer.status).toBeGreaterThanOrEqual(200);
    expect(typeof answer.body).toBe('object');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Values a hostile or careless client sends.

const awkwardStrings = fc.constantFrom(
  '', ' ', '\u0000', '\t\n', '\u202e', '🏠🔥', 'é'.normalize('NFD'), 'x'.repeat(5000), '{c:C1}', 'gk:{c:C1}:customer', '__proto__', 'constructor',
  'null', 'undefined', 'NaN', '-1', '1e309', '0x10', '<script>alert(1)</script>', '%00', '../../etc/passwd', '$where', "'; DROP TABLE",
  // Dates, times and durations just inside and outside what the schemas and rules accept.
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2026-02-29T10:00:00Z', '2026-03-29T01:30:00Z', '2026-10-25T01:30:00+01:00',
  '2026-11-25T10:00:00+23:59', '2026-11-25T10:00:00-23:59', '2026-11-25T10:00:00.123456789Z', '2026-11-25', '10:00', '24:00', '23:60', '00:00',
  'P7D', 'P0D', 'PT0S', 'P-1D', 'P1Y', 'P999999999D', 'PT1H', 'P1W', 'P', 'fri', 'FRI', 'interpreter:', 'interpreter:xx', 'cannot-write',
  '+447700900123', '07700 900123', '+266696687', 'anonymous', '+4477009001231234567890', 'pat@example.org', 'PAT@EXAMPLE.ORG', 'a@b', '@', 'x@-.-',
);
const awkwardNumbers = fc.constantFrom(0, -0, -1, 1, 0.5, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 100_000, 100_001, 9999);
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: awkwardStrings },
  { weight: 1, arbitrary: awkwardNumbers },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: fc.array(awkwardStrings, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
);
const hostileKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'id', 'status', 'roles', 'history', 'approvedBy'), fc.string({ maxLength: 12 }));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = Array<string | number>;

/** Every path to a value inside `value` (not the root). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

/** One edit of a body. */
type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'add'; at: number; key: string; value: unknown }
  | { kind: 'retype'; at: number }
  | { kind: 'repeat'; at: number; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostile }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: hostileKey, value: hostile }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 60 }) }),
);

/** Applies `mutations` to a deep copy of `body`; paths are chosen modulo the paths that exist at that point. */
function mutate(body: Json, mutations: Mutation[]): Json {
  // JSON round trip: a deep copy in which a "__proto__" key is an own property, as the server will parse it.
  let root = JSON.parse(JSON.stringify(body)) as Json;
  for (const m of mutations) {
    const paths = pathsOf(root);
    const path = paths.length > 0 ? paths[m.at % paths.length] : undefined;
    if (path === undefined || path.length === 0) {
      if (m.kind === 'replace') root = m.value as Json;
      continue;
    }
    const parent = path.slice(0, -1).reduce<Json>((node, k) => (node as Record<string | number, Json>)[k] as Json, root) as Record<string | number, Json> | Json[];
    const key = path[path.length - 1] as string | number;
    const current = (parent as Record<string | number, Json>)[key] as Json;
    switch (m.kind) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, Json>)[key];
        break;
      case 'replace':
        (parent as Record<string | number, Json>)[key] = m.value as Json;
        break;
      case 'add':
        if (current !== null && typeof current === 'object' && !Array.isArray(current)) Object.defineProperty(current, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        else if (Array.isArray(current)) current.push(m.value as Json);
        break;
      case 'retype':
        (parent as Record<string | number, Json>)[key] = typeof current === 'string' ? Number(current) || [current] : typeof current === 'number' ? String(current) : Array.isArray(current) ? (current[0] ?? null) : current === null ? {} : [current];
        break;
      case 'repeat':
        if (Array.isArray(current)) (parent as Record<string | number, Json>)[key] = Array.from({ length: m.times }, () => current).flat() as Json;
        else (parent as Record<string | number, Json>)[key] = Array.from({ length: m.times }, () => current) as Json;
        break;
    }
  }
  return root;
}

const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });

// ---------------------------------------------------------------------------------------------------------
// Near-valid bodies of each endpoint.

const instant = fc.oneof(
  fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2027-02-01T10:00:00Z', '2026-11-25T10:00:00Z', '2026-11-25T10:00:00+01:00', '2026-03-29T01:30:00Z', '2027-05-25T10:00:00Z'),
);
const hhmm = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([hh, mm]) => `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`),
  fc.constantFrom('00:00', '24:00', '01:30', '10:00', '12:00'),
);
const staffId = fc.constantFrom('jsmith', 'akhan', 'tess', 'mia', 'ghost', 'agent1');
const measure = fc.oneof(
  fc.record({ type: fc.constant('call-times'), windows: fc.array(fc.record({ days: fc.subarray([...WEEKDAYS], { minLength: 1 }), start: hhmm, end: hhmm }), { minLength: 1, maxLength: 3 }), bankHolidays: fc.constantFrom('closed', 'open') }),
  fc.record({ type: fc.constant('named-contact'), staffId, deputyId: staffId }, { requiredKeys: ['type', 'staffId'] }),
  fc.record({ type: fc.constant('appointments-only'), staffId }),
  fc.record({ type: fc.constant('written-only'), channels: fc.subarray(['letter', 'email']) }),
  fc.record({ type: fc.constant('word-limit'), maxWords: fc.integer({ min: 1, max: 100_000 }) }),
  fc.record({ type: fc.constant('response-frequency'), every: fc.constantFrom('P7D', 'P1W', 'P14D', 'P1M', 'PT12H', 'P0D', 'P-7D', 'P1000Y', 'weekly', ''), weekday: fc.constantFrom(...WEEKDAYS) }, { requiredKeys: ['type', 'every'] }),
  fc.constant({ type: 'new-issues-only' }),
  fc.record({ type: fc.constant('other'), description: fc.string({ minLength: 1, maxLength: 80 }) }),
);
const need = fc.oneof(fc.constantFrom('cannot-use-phone', 'hearing-impairment', 'cannot-write', 'visual-impairment', 'literacy-support', 'interpreter:pl', 'bsl', 'advocate'), fc.string({ maxLength: 20 }));

/** Mostly the good value, sometimes another: near-valid bodies should pass often enough to reach the rules. */
function mostly<T>(good: fc.Arbitrary<T>, other: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: other });
}

/** An instant in the gateway's near future (its clock is 2026-11-25T10:00Z), where review dates belong. */
const soon = fc.date({ min: new Date('2026-11-26T00:00:00Z'), max: new Date('2027-05-20T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const later = fc.date({ min: new Date('2027-05-21T00:00:00Z'), max: new Date('2028-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

const restrictionRequest = fc.record(
  {
    customerId: mostly(fc.constantFrom('C1', 'C2'), fc.constantFrom('NOPE', 'c1')),
    category: mostly(fc.constantFrom(...CATEGORIES), fc.string({ maxLength: 10 })),
    summary: mostly(fc.string({ minLength: 1, maxLength: 200 }).filter((x) => x.trim() !== ''), fc.string({ maxLength: 5 })),
    evidence: fc.array(fc.record({ type: fc.constantFrom('call-log', 'note', 'recording'), reference: fc.stringMatching(/^[A-Z]{1,4}-\d{1,4}$/), note: fc.string({ maxLength: 50 }) }, { requiredKeys: ['type', 'reference'] }), { minLength: 1, maxLength: 3 }),
    authorisedBy: mostly(fc.constant('mia'), fc.oneof(staffId, fc.constant(''))),
    warnings: fc.array(
      fc.record({ type: fc.constantFrom('informal', 'formal'), date: mostly(instant.map((x) => x.slice(0, 10)), fc.oneof(instant, fc.constantFrom('2026-13-45', '05/10/2026', 'yesterday!', '0000-00-00', '9999-99-99'))), reference: fc.string({ maxLength: 20 }) }, { requiredKeys: ['type', 'date'] }),
      { maxLength: 3 },
    ),
    noWarningReason: fc.string({ maxLength: 100 }),
  },
  { requiredKeys: ['customerId', 'category', 'summary', 'evidence', 'authorisedBy'] },
);

const decideRequest = fc.record(
  {
    measures: fc.array(measure, { minLength: 1, maxLength: 4 }),
    startsAt: instant,
    reviewAt: mostly(soon, fc.oneof(instant, later)),
    endsAt: mostly(later, instant),
    singlePointOfContact: staffId,
    adjustments: fc.array(fc.record({ need, arrangement: fc.string({ minLength: 1, maxLength: 60 }) }), { maxLength: 3 }),
  },
  { requiredKeys: ['measures', 'reviewAt', 'singlePointOfContact'] },
);

const decisionRequest = fc.record(
  {
    channel: fc.constantFrom(...CHANNELS),
    from: fc.oneof(fc.constantFrom('+447700900123', '07700 900123', '+441632960123', 'pat@example.org', 'anonymous', '+266696687', ''), fc.string({ maxLength: 30 })),
    customerId: fc.constantFrom('C1', 'C2', 'NOPE'),
    at: instant,
    text: fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('There is a gas leak in the kitchen', 'water through the ceiling onto the electrics', 'my fence is broken')),
    subject: fc.string({ maxLength: 60 }),
    emergency: fc.boolean(),
    words: fc.nat({ max: 10_000 }),
  },
  { requiredKeys: ['channel'] },
);

const customerRequest = fc.record(
  {
    name: fc.string({ minLength: 1, maxLength: 60 }),
    phones: fc.array(fc.oneof(fc.constantFrom('07700 900999', '+441632960555', '020 7946 0000', '12', '+266696687', 'call me'), fc.string({ maxLength: 20 })), { maxLength: 3 }),
    emails: fc.array(fc.oneof(fc.emailAddress(), fc.constantFrom('PAT@Example.org', 'x@y', 'not-an-email')), { maxLength: 3 }),
    needs: fc.array(need, { maxLength: 4 }),
    preferredChannel: fc.constantFrom(...CHANNELS, 'fax'),
    language: fc.constantFrom('en', 'cy', 'pl', 'x'.repeat(40)),
  },
  { requiredKeys: ['name'] },
);

/** A body for a run: a random JSON value, a near-valid body, or a near-valid body mutated. */
function bodies(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json> },
    { weight: 2, arbitrary: valid as fc.Arbitrary<Json> },
    { weight: 3, arbitrary: fc.tuple(valid as fc.Arbitrary<Json>, mutations).map(([b, ms]) => mutate(b, ms)) },
  );
}

// ---------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  h = await startGateway();
  tokens.sam = await h.staff('sam', ['staff']);
  tokens.mia = await h.staff('mia', ['manager']);
  tokens.tess = await h.staff('tess', ['tenancy-specialist']);
  tokens.tom = await h.staff('tom', ['ts-manager']);
  tokens.agent = await h.staff('agent1', ['agent']);
  await h.staff('jsmith', ['staff']);
  await h.staff('akhan', ['staff']);
  const tess = { Authorization: `Bearer ${tokens.tess}` };
  await request(h.app).put('/v1/customers/C1').set(tess).send({ name: 'Pat Example', phones: ['07700 900123'], emails: ['pat@example.org'], needs: [] }).expect(201);
  await request(h.app).put('/v1/customers/C2').set(tess).send({ name: 'Chris Cannotwrite', phones: ['01632 960123'], emails: [], needs: ['cannot-write', 'hearing-impairment'] }).expect(201);
  activeRestrictionId = await freshRestriction('C1');
  await request(h.app)
    .post(`/v1/restrictions/${activeRestrictionId}/decide`)
    .set(tess)
    .send({ measures: [{ type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }] }], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' })
    .expect(200);
  await request(h.app).post(`/v1/restrictions/${activeRestrictionId}/approve`).set('Authorization', `Bearer ${tokens.tom}`).send({}).expect(200);

  server = createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

async function freshRestriction(customerId: string): Promise<string> {
  const res = await request(h.app)
    .post('/v1/restrictions')
    .set('Authorization', `Bearer ${tokens.sam}`)
    .send({ customerId, category: 'excessive-contact', summary: 'Many calls', evidence: [{ type: 'call-log', reference: 'LOG-1' }], authorisedBy: 'mia', warnings: [{ type: 'formal', date: '2026-10-05' }] })
    .expect(201);
  return (res.body as { id: string }).id;
}

/**
 * Whether the runs got past the schema to the rules (a 422 with a rule's code) and sometimes all the way
 * through (2xx): a fuzzer whose every body dies at the first check proves little.
 */
function expectDepth(success: RegExp, ruleRefusals: boolean): void {
  const keys = [...seen.keys()];
  expect(keys.some((k) => success.test(k))).toBe(true);
  expect(keys.some((k) => k.startsWith('400 '))).toBe(true);
  if (ruleRefusals) expect(keys.some((k) => k.startsWith('422 '))).toBe(true);
}

describe('fuzzing the staff API bodies', () => {
  beforeEach(() => seen.clear());

  it('POST /v1/restrictions never fails with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(bodies(restrictionRequest), async (body) => {
        const text = JSON.stringify(body);
        checkAnswer(await send('POST', '/v1/restrictions', tokens.sam ?? '', text), body);
      }),
      { numRuns: RUNS },
    );
    expectDepth(/^201$/, true);
  });

  it('POST /v1/restrictions/:id/decide never fails with a 5xx', async () => {
    // A decide that succeeds moves its restriction on; the next run gets a fresh one, so each run meets a
    // restriction still waiting for a decision.
    let pending = { C1: await freshRestriction('C1'), C2: await freshRestriction('C2') };
    await fc.assert(
      fc.asyncProperty(bodies(decideRequest), fc.constantFrom('C1' as const, 'C2' as const), async (body, customer) => {
        const answer = await send('POST', `/v1/restrictions/${pending[customer]}/decide`, tokens.tess ?? '', JSON.stringify(body));
        checkAnswer(answer, body);
        if (answer.status < 300) {
          expect((answer.body as { status: string }).status).toBe('pending-approval');
          pending = { ...pending, [customer]: await freshRestriction(customer) };
        }
      }),
      { numRuns: RUNS },
    );
    expectDepth(/^200$/, true);
  });

  it('POST /v1/decisions never fails with a 5xx, and every decision it gives is well formed', async () => {
    await fc.assert(
      fc.asyncProperty(bodies(decisionRequest), async (body) => {
        const answer = await send('POST', '/v1/decisions', tokens.agent ?? '', JSON.stringify(body));
        checkAnswer(answer, body);
        if (answer.status === 200) {
          const decision = answer.body as { outcome: string; reasons: string[]; breach: boolean };
          expect(['proceed', 'deflect', 'emergency']).toContain(decision.outcome);
          for (const reason of decision.reasons) expect(REASON_CODES).toContain(reason);
          // A deflection always says why and counts as a breach; an emergency always says so.
          if (decision.outcome === 'deflect') expect({ reasons: decision.reasons.length > 0, breach: decision.breach }).toEqual({ reasons: true, breach: true });
          if (decision.outcome === 'emergency') expect(decision.reasons).toContain('emergency');
        }
      }),
      { numRuns: RUNS },
    );
    expectDepth(/^200$/, false);
  });

  it('PUT /v1/customers/:id never fails with a 5xx, whatever the body or the id', async () => {
    const id = fc.oneof(
      { weight: 3, arbitrary: fc.stringMatching(/^F[A-Za-z0-9._:-]{1,12}$/) },
      { weight: 1, arbitrary: fc.oneof(awkwardStrings, fc.string({ minLength: 1, maxLength: 80 })).filter((s) => s.trim() !== '' && s !== 'C1' && s !== 'C2') },
    );
    await fc.assert(
      fc.asyncProperty(bodies(customerRequest), id, async (body, customerId) => {
        const answer = await send('PUT', `/v1/customers/${encodeURIComponent(customerId)}`, tokens.tess ?? '', JSON.stringify(body));
        checkAnswer(answer, { customerId, body });
      }),
      { numRuns: RUNS },
    );
    expectDepth(/^20[01]$/, true);
  });

  it('ids in the path never cause a 5xx either (they become Redis key names: braces would move hash slots)', async () => {
    const get = async (path: string, token: string): Promise<Answer> => {
      const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
      const text = await res.text();
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: JSON.parse(text) as unknown };
    };
    const id = fc.oneof(awkwardStrings, fc.string({ minLength: 1, maxLength: 300 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 50 })).filter((s) => s !== '.' && s !== '..');
    await fc.assert(
      fc.asyncProperty(id, fc.constantFrom('', '/flags', '/contacts'), fc.boolean(), async (raw, suffix, restriction) => {
        const encoded = encodeURIComponent(raw);
        const answer = restriction
          ? await send('POST', `/v1/restrictions/${encoded}/approve`, tokens.tom ?? '', '{}')
          : await get(`/v1/customers/${encoded}${suffix}`, tokens.tess ?? '');
        checkAnswer(answer, { raw, suffix, restriction });
      }),
      { numRuns: RUNS },
    );
    expect([...seen.keys()].some((k) => k.startsWith('404 '))).toBe(true);
  });

  it('still serves, and still enforces the restriction it held, after all of that', async () => {
    await request(base).get('/healthz').expect(200);
    await request(base).get('/readyz').expect(200);
    const res = await request(base)
      .post('/v1/decisions')
      .set('Authorization', `Bearer ${tokens.agent}`)
      .send({ channel: 'voice', from: '+447700900123', at: '2026-11-25T14:00:00Z' })
      .expect(200);
    expect(res.body).toMatchObject({ outcome: 'deflect', customerId: 'C1', restrictionId: activeRestrictionId, reasons: ['outside-call-times'] });
  });
});
