/**
 * Hostile MIME, crafted and fuzzed (fast-check), first against the parser in process, then against a real
 * gateway process and a real worker process: truncated messages, multiparts nested 200 and 2,000 deep, a
 * 1 MB header block and a 1 MB header line, invalid and unknown charsets, 10,000 parts, a zip bomb
 * attachment, and PDF bombs sent as scanned letters from LETTERS_FROM (a page tree declaring 2³¹−1 pages, a
 * page tree that contains itself, objects nested 100,000 deep) — plus a letter longer than LETTER_MAX_PAGES.
 *
 * Never a crash, never a 5xx: every message is stored (202), processed and forwarded to a person exactly
 * once — flagged "[Unreadable: check original]" when it could not be read, "COUNT BY HAND" when a letter's
 * words could not all be counted — and the worker's peak resident memory stays bounded.
 */
import { crc32, createDeflateRaw } from 'node:zlib';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parseEmail } from '../../channels/email/parse';
import { closeConnection, createStoreConnection, type RedisConnection } from '../../store/connections';
import { rawMessageKeys } from '../../store/raw-messages';
import { buildMessage } from '../fixtures/mail/builders';
import {
  api,
  emailQueuesIdle,
  ensureBuilt,
  MAIL_DOMAIN,
  MAILBOX,
  mailEnv,
  postInboundEmail,
  PROCESS_ADMIN_TOKEN,
  spawnGatekeeper,
  staffToken,
  startRelay,
  stopAllGatekeepers,
  until,
  WRITE_TO,
  type GatekeeperProcess,
  type Relay,
} from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis-server';

const CRLF = '\r\n';
const LETTERS_FROM = 'scans@bureau.example';
const CUSTOMER = { id: 'C7301', address: 'hostile@tenant.example' };
/** The worker's peak resident set must stay under this, whatever it was sent. */
const MEMORY_BOUND = 1.5 * 1024 ** 3;

// ── Crafted messages ──────────────────────────────────────────────────────────────────────────────────

let sequence = 0;
function headerBlock(extra: string[] = [], from = CUSTOMER.address): string {
  sequence += 1;
  return [`From: Tenant <${from}>`, `To: ${WRITE_TO}`, `Subject: Hostile ${sequence}`, `Message-ID: <hostile-${sequence}-${Date.now()}@tenant.example>`, 'MIME-Version: 1.0', ...extra].join(CRLF) + CRLF;
}

/** Multiparts nested `depth` deep around one text part. */
function nested(depth: number): Buffer {
  let body = `Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}The innermost text.${CRLF}`;
  for (let d = depth; d > 0; d -= 1) body = `Content-Type: multipart/mixed; boundary="n${d}"${CRLF}${CRLF}--n${d}${CRLF}${body}--n${d}--${CRLF}`;
  return Buffer.from(headerBlock() + body);
}

/** One text part and `n - 1` tiny attachments. */
function manyParts(n: number): Buffer {
  const parts = [`Content-Type: multipart/mixed; boundary="many"${CRLF}${CRLF}--many${CRLF}Content-Type: text/plain${CRLF}${CRLF}See the attached.${CRLF}`];
  for (let i = 1; i < n; i += 1) parts.push(`--many${CRLF}Content-Type: text/plain; name="p${i}.txt"${CRLF}Content-Disposition: attachment; filename="p${i}.txt"${CRLF}${CRLF}part ${i}${CRLF}`);
  parts.push(`--many--${CRLF}`);
  return Buffer.from(headerBlock() + parts.join(''));
}

/** A header block of about `bytes` bytes in 100-byte fields. */
function hugeHeaderBlock(bytes: number): Buffer {
  const lines: string[] = [];
  for (let size = 0, i = 0; size < bytes; i += 1) {
    const line = `X-Filler-${i}: ${'a'.repeat(88)}`;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(headerBlock(lines) + `Content-Type: text/plain${CRLF}${CRLF}A normal body after a huge header block.${CRLF}`);
}

/** One header line of `bytes` bytes. */
function hugeHeaderLine(bytes: number): Buffer {
  return Buffer.from(headerBlock([`X-Huge: ${'b'.repeat(bytes)}`]) + `Content-Type: text/plain${CRLF}${CRLF}A normal body after a huge header line.${CRLF}`);
}

/** Charsets nobody knows, that lie, or that nothing decodes. */
function invalidCharsets(): Buffer[] {
  return [
    Buffer.from(headerBlock() + `Content-Type: text/plain; charset="x-no-such-charset"${CRLF}${CRLF}h\xe9llo \xff\xfe${CRLF}`, 'latin1'),
    Buffer.from(headerBlock(['Subject: =?x-bogus?Q?caf=E9?= =?utf-8?B?////?=']) + `Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}invalid utf-8: \xc3\x28 \xa0\xa1 \xf0\x28\x8c\x28${CRLF}`, 'latin1'),
    Buffer.from(headerBlock() + `Content-Type: text/plain; charset=utf-7${CRLF}Content-Transfer-Encoding: x-unknown${CRLF}${CRLF}Hi Mom -+Jjo--!${CRLF}`, 'latin1'),
    Buffer.from(headerBlock() + `Content-Type: text/html; charset=utf-16${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}!!!not base64!!!${CRLF}`, 'latin1'),
  ];
}

/** A multipart message cut off at several places: in a header, mid-part, mid-base64, before the close. */
function truncations(): Buffer[] {
  const whole = buildMessage({ from: CUSTOMER.address, to: WRITE_TO, subject: 'To be cut', text: 'The text part.', html: '<p>The html part.</p>', attachments: [{ filename: 'photo.jpg', contentType: 'image/jpeg', content: Buffer.alloc(3000, 7) }] });
  return [40, Math.floor(whole.length / 3), Math.floor(whole.length / 2), whole.length - 30].map((n) => whole.subarray(0, n));
}

/** A zip archive of one entry of `megabytes` MiB of zeros (about 1 KiB compressed per MiB). */
async function zipBomb(megabytes: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (c: Buffer) => compressed.push(c));
  const done = new Promise<void>((resolve) => deflate.once('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  let crc = 0;
  for (let i = 0; i < megabytes; i += 1) {
    crc = crc32(zeros, crc);
    if (!deflate.write(zeros)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const data = Buffer.concat(compressed);
  const name = Buffer.from('invoice.pdf');
  const size = megabytes * 1024 * 1024;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(local.length + name.length + data.length, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** A PDF from its objects (1-based, object 1 the catalogue), with a correct cross-reference table. */
function pdf(objects: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const bytes = Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, 'latin1');
    parts.push(bytes);
    offset += bytes.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

const FONT = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
function textStream(text: string): string {
  const ops = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  return `<< /Length ${ops.length} >>\nstream\n${ops}\nendstream`;
}
function page(contents: number, extra = ''): string {
  return `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contents} 0 R ${extra}>>`;
}
const LETTER_TEXT = `Customer reference ${CUSTOMER.id}. The damp in the back bedroom has come back and the window frame is rotten.`;

/** The PDF bombs and the over-long letter; `complete` when every word of it can be read and counted. */
function pdfLetters(): Array<{ name: string; pdf: Buffer; complete: boolean }> {
  return [
    // A page tree that declares 2^31 - 1 pages but holds one: the count is not trusted, the one page is read.
    { name: 'huge page count', complete: true, pdf: pdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [4 0 R] /Count 2147483647 >>', FONT, page(5), textStream(LETTER_TEXT)]) },
    // A page tree that contains itself, claiming a billion pages.
    { name: 'self-referencing page tree', complete: false, pdf: pdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [2 0 R 4 0 R] /Count 1000000000 >>', FONT, page(5), textStream(LETTER_TEXT)]) },
    // A value nested 100,000 arrays deep.
    { name: 'deeply nested objects', complete: false, pdf: pdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [4 0 R] /Count 1 >>', FONT, page(5, `/Deep ${'['.repeat(100_000)}${']'.repeat(100_000)} `), textStream(LETTER_TEXT)]) },
    // Three readable pages, one more than LETTER_MAX_PAGES (2) allows.
    {
      name: 'over the page limit',
      complete: false,
      pdf: pdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [4 0 R 6 0 R 7 0 R] /Count 3 >>', FONT, page(5), textStream(LETTER_TEXT), page(5), page(5)]),
    },
  ];
}

function letterMessage(file: Buffer, filename = 'scan.pdf', contentType = 'application/pdf'): Buffer {
  return buildMessage({ from: LETTERS_FROM, to: WRITE_TO, subject: 'Scanned letter', text: 'Scanned by the bureau.', attachments: [{ filename, contentType, content: file }] });
}

// ── Mutations for fuzzing ─────────────────────────────────────────────────────────────────────────────

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'header'; line: string };

const position = fc.double({ min: 0, max: 1, noNaN: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: position.map((p) => p) }).map((m) => ({ kind: m.kind, at: m.at })),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 200 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.constantFrom('\r\n', '\r\n\r\n', '--', '\r\n--b\r\n', '=?utf-8?B?', '=\r\n', '\x00', 'Content-Type: multipart/mixed; boundary=""\r\n').map((s) => Buffer.from(s, 'latin1')),
    ),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('header' as const), line: fc.string({ unit: 'binary-ascii', maxLength: 120 }) }),
);

function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
  let out = seed;
  for (const m of mutations) {
    const at = 'at' in m ? Math.floor(m.at * out.length) : 0;
    switch (m.kind) {
      case 'truncate':
        out = out.subarray(0, Math.max(1, at));
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)]);
        break;
      case 'duplicate':
        out = Buffer.concat([out.subarray(0, at + m.length), out.subarray(at)]);
        break;
      case 'flip':
        out = Buffer.from(out);
        if (out.length > 0) out[Math.min(at, out.length - 1)] = m.value;
        break;
      case 'header':
        out = Buffer.concat([Buffer.from(`X-Fuzz: ${m.line.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1'), out]);
        break;
    }
  }
  return out.length === 0 ? Buffer.from('\r\n') : out;
}

function seeds(): Buffer[] {
  return [
    buildMessage({ from: CUSTOMER.address, to: WRITE_TO, subject: 'Plain', text: 'A plain message about the boiler.' }),
    buildMessage({ from: CUSTOMER.address, to: WRITE_TO, subject: 'Alternative', text: 'Text part.', html: '<p>HTML <b>part</b>.</p>', charset: 'iso-8859-1', encoding: 'base64' }),
    buildMessage({ from: CUSTOMER.address, to: WRITE_TO, subject: 'Attached', text: 'See the photo.', attachments: [{ filename: 'photo.png', contentType: 'image/png', content: Buffer.alloc(2000, 3) }] }),
    nested(6),
  ];
}

/** Parses with a liveness bound: a parse that does not settle in 20 s has hung. */
async function parseWithin(raw: Buffer): Promise<Awaited<ReturnType<typeof parseEmail>>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      parseEmail(Readable.from([raw])),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('parseEmail hung')), 20_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ── In process: the parser ────────────────────────────────────────────────────────────────────────────

describe('parseEmail on hostile MIME', () => {
  it('reads or flags every crafted message, and never hangs (10,000 parts used to hang it for ever)', async () => {
    const deep200 = await parseWithin(nested(200));
    expect(deep200).toMatchObject({ malformed: false, text: 'The innermost text.' });
    for (const raw of [nested(2000), manyParts(10_000), hugeHeaderBlock(1024 * 1024), hugeHeaderLine(1024 * 1024)]) {
      const parsed = await parseWithin(raw);
      expect(parsed.malformed).toBe(true);
      expect(parsed.problems).toContain('parse-error');
    }
    for (const raw of truncations().slice(1)) expect((await parseWithin(raw)).problems).toContain('unterminated-multipart');
    for (const raw of invalidCharsets()) expect(typeof (await parseWithin(raw)).text).toBe('string');
  }, 60_000);

  it('never rejects or hangs on mutated messages (property)', async () => {
    const seedMessages = seeds();
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: seedMessages.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (seed, mutations) => {
        const parsed = await parseWithin(mutate(seedMessages[seed]!, mutations));
        expect(typeof parsed.malformed).toBe('boolean');
        expect(typeof parsed.text).toBe('string');
        expect(Array.isArray(parsed.attachments)).toBe(true);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});

// ── Real processes ────────────────────────────────────────────────────────────────────────────────────

describe('a gateway and a worker process under hostile MIME', () => {
  let redis: TestRedis;
  let relay: Relay;
  let connection: RedisConnection;
  let gateway: GatekeeperProcess;
  let worker: GatekeeperProcess;
  let ingestToken: string;
  /** Every message key accepted, to check at the end that each was forwarded exactly once. */
  const accepted = new Set<string>();

  beforeAll(async () => {
    [redis, relay] = await Promise.all([startRedis(), startRelay(), ensureBuilt().then(() => undefined)]);
    connection = createStoreConnection({ kind: 'single', url: redis.url });
    const env = {
      ...mailEnv(redis, relay),
      LETTERS_FROM,
      LETTER_MAX_PAGES: '2',
      LETTER_TIMEOUT_MS: '10000',
    };
    [gateway, worker] = await Promise.all([spawnGatekeeper({ name: 'gateway', roles: 'gateway', env }), spawnGatekeeper({ name: 'worker', roles: 'worker', env })]);
    const put = await api(gateway.url, PROCESS_ADMIN_TOKEN, 'PUT', `/v1/customers/${CUSTOMER.id}`, { name: 'Hostile Tester', phones: [], emails: [CUSTOMER.address], needs: [] });
    expect([200, 201]).toContain(put.status);
    ingestToken = await staffToken(gateway.url, { id: 'ingest-hostile', roles: ['ingest'] });
  }, 120_000);

  afterAll(async () => {
    await stopAllGatekeepers();
    await closeConnection(connection);
    await relay?.close();
    await redis?.stop();
  });

  /** Posts a message: never a 5xx; returns the key when accepted. */
  async function post(raw: Buffer): Promise<string | undefined> {
    const reply = await postInboundEmail(gateway.url, ingestToken, raw);
    expect(reply.status).toBeLessThan(500);
    if (reply.status !== 202) {
      // A refusal must say why, in the API's error shape.
      expect(reply.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      return undefined;
    }
    accepted.add(reply.messageKey!);
    return reply.messageKey!;
  }

  const forwardOf = (key: string) => relay.accepted.filter((m) => m.messageId === `fwd.${key}@${MAIL_DOMAIN}`);
  async function triageOf(key: string): Promise<{ malformed: boolean; manualCount: boolean; letter?: { pages: number }; channel: string }> {
    const json = await connection.hget(rawMessageKeys(key).meta, 'triage');
    return JSON.parse(json!) as { malformed: boolean; manualCount: boolean; letter?: { pages: number }; channel: string };
  }

  it('stores, processes and forwards every crafted message, flagging what it could not read', async () => {
    const unreadable = [nested(2000), manyParts(10_000), hugeHeaderBlock(1024 * 1024), hugeHeaderLine(1024 * 1024), ...truncations().slice(1)];
    const readable = [nested(200), ...invalidCharsets(), buildMessage({ from: CUSTOMER.address, to: WRITE_TO, subject: 'Invoice', text: 'The invoice is attached.', attachments: [{ filename: 'invoice.zip', contentType: 'application/zip', content: await zipBomb(256) }] })];
    const letters = pdfLetters().map((l) => ({ ...l, raw: letterMessage(l.pdf) }));
    const keys = {
      unreadable: await Promise.all(unreadable.map(post)),
      readable: await Promise.all(readable.map(post)),
      letters: await Promise.all(letters.map((l) => post(l.raw))),
      headerOnly: await post(truncations()[0]!),
    };
    const all = [...keys.unreadable, ...keys.readable, ...keys.letters, keys.headerOnly];
    expect(all.every((k) => k !== undefined)).toBe(true);

    await until(() => all.every((k) => forwardOf(k!).length >= 1), 60_000, 'every crafted message to be forwarded');
    for (const key of keys.unreadable) {
      expect((await triageOf(key!)).malformed).toBe(true);
      expect(forwardOf(key!)[0]!.subject).toContain('[Unreadable: check original]');
    }
    // The zip bomb is an attachment like any other: counted, never opened.
    expect((await triageOf(keys.readable.at(-1)!)).malformed).toBe(false);
    for (const [i, key] of keys.letters.entries()) {
      const { name, complete } = letters[i]!;
      const triage = await triageOf(key!);
      expect({ name, channel: triage.channel, manualCount: triage.manualCount }).toEqual({ name, channel: 'letter', manualCount: !complete });
      if (!complete) expect(forwardOf(key!)[0]!.raw.toString('latin1')).toContain('COUNT BY HAND');
    }
    // LETTER_MAX_PAGES reaches the workers: two pages of the three-page letter were read.
    expect((await triageOf(keys.letters[3]!)).letter?.pages).toBe(2);
    expect((await triageOf(keys.letters[0]!)).letter?.pages).toBe(1);
  }, 120_000);

  it('never answers 5xx to mutated messages, and forwards each one it accepts (property)', async () => {
    const seedMessages = [...seeds(), letterMessage(pdfLetters()[0]!.pdf)];
    const keys: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: seedMessages.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (seed, mutations) => {
        const key = await post(mutate(seedMessages[seed]!, mutations));
        if (key !== undefined) keys.push(key);
      }),
      { numRuns: 25 },
    );
    expect(keys.length).toBeGreaterThan(0);
    await until(() => keys.every((k) => forwardOf(k).length >= 1), 60_000, 'every accepted mutated message to be forwarded');
  }, 120_000);

  it('forwarded each accepted message exactly once, stayed up, and kept its memory bounded', async () => {
    await emailQueuesIdle(redis.url, 60_000);
    for (const key of accepted) expect(forwardOf(key)).toHaveLength(1);
    expect(relay.accepted.filter((m) => m.rcptTo.includes(MAILBOX))).toHaveLength(accepted.size);
    expect([gateway.alive(), worker.alive()]).toEqual([true, true]);
    expect(gateway.entries().filter((e) => e.message === 'request' && Number(e.status) >= 500)).toEqual([]);
    const { peak } = worker.memory();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(MEMORY_BOUND);
  }, 90_000);
});
