/**
 * The HTTP surface under hostile requests: security headers (helmet) and a strict Content-Security-Policy,
 * the agent console working under that policy, request body limits (413), header size limits (431), bodies
 * that are not what they claim to be, and unknown routes — every refusal the API itself gives in the
 * `{ error: { code, message } }` shape.
 * All of it against the gateway exactly as `npm start` composes it (gateway/compose.ts).
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import request from 'supertest';
import type { Response } from 'supertest';
import { startGateway, type GatewayHarness } from '../support/gateway-harness';

let h: GatewayHarness;
let agentToken = '';
let adminToken = '';
let server: Server;
let port = 0;

function expectErrorShape(res: Response, status: number, code: string): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.text).not.toMatch(/\bat .+:\d+:\d+/);
}

/** `Content-Security-Policy` as directive → sources. */
function parseCsp(header: string | undefined): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** Checks a policy that only lets the page load its own files: no inline code, no eval, no framing. */
function expectStrictCsp(header: string | undefined, allowInlineStyles = false): void {
  const csp = parseCsp(header);
  expect(csp.get('default-src')).toEqual(["'self'"]);
  expect(csp.get('script-src')).toEqual(["'self'"]);
  expect(csp.get('object-src')).toEqual(["'none'"]);
  expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
  expect(csp.get('base-uri')).toEqual(["'self'"]);
  expect(csp.get('form-action')).toEqual(["'self'"]);
  for (const [name, sources] of csp) {
    const banned = ["'unsafe-eval'", "'unsafe-hashes'", '*', 'http:', 'https:', "'strict-dynamic'"];
    if (!(allowInlineStyles && name === 'style-src')) banned.push("'unsafe-inline'");
    expect({ name, banned: sources.filter((source) => banned.includes(source)) }).toEqual({ name, banned: [] });
    // `data:` only for images (the console's empty favicon), never for scripts, styles or connections.
    if (name !== 'img-src') expect({ name, data: sources.includes('data:') }).toEqual({ name, data: false });
  }
}

/** Helmet's protective headers, on any response. */
function expectSecurityHeaders(res: Response): void {
  expectStrictCsp(res.headers['content-security-policy']);
  expect(res.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toMatch(/^(DENY|SAMEORIGIN)$/);
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
  expect(res.headers['x-permitted-cross-domain-policies']).toBe('none');
  expect(res.headers['x-dns-prefetch-control']).toBe('off');
  expect(res.headers['x-powered-by']).toBeUndefined();
}

beforeAll(async () => {
  h = await startGateway();
  agentToken = await h.staff('agent1', ['agent']);
  adminToken = await h.staff('admin1', ['admin']);
  server = createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  port = addr.port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

describe('security headers', () => {
  it.each([
    ['a health check', () => request(h.app).get('/healthz')],
    ['an API answer', () => request(h.app).get('/v1/customers/NOPE').set('Authorization', `Bearer ${agentToken}`)],
    ['a refusal', () => request(h.app).get('/v1/customers/NOPE')],
    ['a 404', () => request(h.app).get('/nothing-here')],
  ])('are on %s', async (_what, send) => {
    expectSecurityHeaders(await send());
  });
});

describe('the agent console under its Content-Security-Policy', () => {
  it('serves the page with the strict policy and every helmet header', async () => {
    const res = await request(h.app).get('/console').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expectSecurityHeaders(res);
  });

  it('needs nothing the policy forbids: no inline script, inline style, event handler or foreign origin', async () => {
    const html = (await request(h.app).get('/console').expect(200)).text;
    const inlineScripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].filter(([, attrs, body]) => !/\bsrc=/.test(attrs ?? '') || (body ?? '').trim() !== '');
    expect(inlineScripts).toEqual([]);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
    for (const [, url] of html.matchAll(/\b(?:src|href)="([^"]*)"/gi)) expect(url).toMatch(/^(\/(?!\/)|#|data:,$)/);

    const script = await request(h.app).get('/console/app.js').expect(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.text).not.toMatch(/\beval\(|new Function\(|\.innerHTML\s*=/);
    expect((await request(h.app).get('/console/app.css').expect(200)).headers['content-type']).toMatch(/^text\/css/);
  });

  it('keeps the queue dashboard (admin only) as strict, but for inline styles its prebuilt page needs', async () => {
    const res = await request(h.app).get('/admin/queues').set('Authorization', `Bearer ${adminToken}`).expect(200);
    expectStrictCsp(res.headers['content-security-policy'], true);
    expect(parseCsp(res.headers['content-security-policy']).get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expectErrorShape(await request(h.app).get('/admin/queues').set('Authorization', `Bearer ${agentToken}`), 403, 'forbidden-role');
  });

  it('asks for a bearer token on /console/me and serves no dotfiles or parent paths', async () => {
    expectErrorShape(await request(h.app).get('/console/me'), 401, 'unauthenticated');
    const me = await request(h.app).get('/console/me').set('Authorization', `Bearer ${agentToken}`).expect(200);
    expect(me.body).toMatchObject({ id: 'agent1', roles: ['agent'] });
    expectErrorShape(await request(h.app).get('/console/..%2f..%2fpackage.json'), 404, 'not-found');
    expectErrorShape(await request(h.app).get('/console/.env'), 404, 'not-found');
  });
});

describe('request size limits', () => {
  it('refuses a JSON body over 100 kB with 413 — before authentication, so no one can make the gateway buffer more', async () => {
    const big = { channel: 'email', from: 'x@example.org', text: 'a'.repeat(150_000) };
    expectErrorShape(await request(h.app).post('/v1/decisions').set('Authorization', `Bearer ${agentToken}`).send(big), 413, 'payload-too-large');
    expectErrorShape(await request(h.app).post('/v1/decisions').send(big), 413, 'payload-too-large');
    // Just under the limit is fine.
    const fits = await request(h.app).post('/v1/decisions').set('Authorization', `Bearer ${agentToken}`).send({ ...big, text: 'a'.repeat(90_000) });
    expect(fits.status).toBe(200);
  });

  it('refuses a form body over 64 kB, or with too many fields, with 413', async () => {
    const form = `Body=${'b'.repeat(70_000)}`;
    expectErrorShape(await request(h.app).post('/voice/incoming').type('form').send(form), 413, 'payload-too-large');
    const fields = Array.from({ length: 1500 }, (_, i) => `f${i}=1`).join('&');
    expectErrorShape(await request(h.app).post('/voice/incoming').type('form').send(fields), 413, 'payload-too-large');
  });

  it('answers 431 to request headers over Node’s 16 kB limit, and keeps serving', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('latin1');
      });
      // The server may close while we are still writing; what it answered first is what counts.
      socket.on('error', () => undefined);
      socket.on('close', () => (reply ? resolve(reply.split('\r\n')[0] ?? '') : reject(new Error('no reply'))));
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'h'.repeat(20_000)}\r\nConnection: close\r\n\r\n`);
    });
    expect(status).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    await request(server).get('/healthz').expect(200);
  });
});

describe('bodies that are not what they claim', () => {
  const auth = () => ({ Authorization: `Bearer ${agentToken}` });

  it('answers malformed JSON with 400 invalid-json', async () => {
    for (const raw of ['{', '{"channel":"voice",}', '\u0000', 'nul', '{"a":1}}', '[', '"\\ud800"x']) {
      expectErrorShape(await request(h.app).post('/v1/decisions').set(auth()).set('Content-Type', 'application/json').send(raw), 400, 'invalid-json');
    }
  });

  it('answers an unsupported charset or content encoding with 415', async () => {
    const res = await request(h.app).post('/v1/decisions').set(auth()).set('Content-Type', 'application/json; charset=iso-8859-1').send('{"channel":"voice"}');
    expectErrorShape(res, 415, 'unsupported-encoding');
    const zipped = await request(h.app).post('/v1/decisions').set(auth()).set('Content-Type', 'application/json').set('Content-Encoding', 'compress').send('{"channel":"voice"}');
    expectErrorShape(zipped, 415, 'unsupported-encoding');
  });

  it('treats a body of another type as no body (400 invalid-request), never as JSON', async () => {
    const res = await request(h.app).post('/v1/decisions').set(auth()).set('Content-Type', 'text/plain').send('{"channel":"voice"}');
    expectErrorShape(res, 400, 'invalid-request');
  });

  it('survives deep nesting and prototype keys without a 5xx or pollution', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const nested = await request(h.app).post('/v1/decisions').set(auth()).set('Content-Type', 'application/json').send(`{"channel":"voice","text":${deep}}`);
    expectErrorShape(nested, 400, 'invalid-request');
    const proto = await request(h.app)
      .post('/v1/decisions')
      .set(auth())
      .set('Content-Type', 'application/json')
      .send('{"channel":"voice","from":"+447700900123","__proto__":{"emergency":true,"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}');
    expect(proto.status).toBe(200);
    expect(proto.body.outcome).toBe('proceed');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).emergency).toBeUndefined();
  });
});

describe('unknown routes', () => {
  it('answers 404 not-found in the error shape, outside and inside the authenticated API', async () => {
    expectErrorShape(await request(h.app).get('/no/such/thing'), 404, 'not-found');
    expectErrorShape(await request(h.app).post('/admin'), 404, 'not-found');
    expectErrorShape(await request(h.app).get('/v1/nothing').set('Authorization', `Bearer ${agentToken}`), 404, 'not-found');
    expectErrorShape(await request(h.app).delete('/v1/customers/C1').set('Authorization', `Bearer ${agentToken}`), 404, 'not-found');
    // Inside /v1 the token is checked first, so an anonymous caller cannot map which routes exist.
    expectErrorShape(await request(h.app).get('/v1/nothing'), 401, 'unauthenticated');
  });

  it('answers 400 invalid-path for a path parameter that is not valid percent-encoding, never a 500', async () => {
    for (const path of ['/v1/customers/%E0%A4%A', '/v1/customers/%', '/v1/customers/%E0%A4%A/flags', '/v1/restrictions/%ZZ']) {
      const res = await request(h.app).get(path).set('Authorization', `Bearer ${adminToken}`);
      expectErrorShape(res, 400, 'invalid-path');
      expect(res.text).not.toContain('%E0');
    }
  });

  it('does not echo the request path back unescaped', async () => {
    const res = await request(h.app).get('/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expectErrorShape(res, 404, 'not-found');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });
});
