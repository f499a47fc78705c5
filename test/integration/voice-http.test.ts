/**
 * The voice webhooks' HTTP layer (gateway/voice-webhooks.ts, served ahead of the express app by
 * gateway/http-handler.ts): what the app's middleware gives its own routes — request id, `nosniff`, the
 * request log's timing, body limits and encodings, the JSON error shape — the webhooks must give too,
 * and every path under /voice must pass the signature check before anything else is said.
 */
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

import request from 'supertest';
import twilio from 'twilio';

import { registry } from '../../gateway/metrics';
import { isVoicePath } from '../../gateway/voice-webhooks';
import { AUTH_TOKEN, PUBLIC_URL, VoiceHarness, signedPost, type VoiceApp } from './voice-harness';
import { emergencySentence, newCallSid, parseTwiml, sign, verbs } from './voice-support';

let h: VoiceHarness;
let voice: VoiceApp;

beforeAll(async () => {
  h = await VoiceHarness.start();
  voice = h.app();
});

afterAll(async () => {
  await voice.background.idle();
  await h.stop();
});

const call = (): Record<string, string> => ({ CallSid: newCallSid(), From: '+447700900150', To: '+441632960000', CallStatus: 'ringing' });

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) as string } });
  expect(res.text).not.toContain('<Response');
}

describe('which paths are the webhooks’', () => {
  it('takes /voice and everything below it, in any case, and nothing that merely starts with the letters', () => {
    for (const url of ['/voice', '/voice/', '/voice?x=1', '/voice/incoming', '/voice/status?step=route', '/voice/anything/else', '/Voice/incoming', '/VOICE']) {
      expect(isVoicePath(url)).toBe(true);
    }
    for (const url of ['/voicemail', '/Voicemail', '/voices/incoming', '/v1/voice', '/', '/voic', '/healthz']) {
      expect(isVoicePath(url)).toBe(false);
    }
  });

  it('leaves a path that only starts with "voice" to the express app (its 404, no signature asked for)', async () => {
    const res = await request(voice.app).post('/voicemail').type('form').send({ a: '1' });
    expectError(res, 404, 'not-found');
  });
});

describe('headers and timing, as the app gives its own routes', () => {
  it('answers TwiML with a request id, nosniff and no-store', async () => {
    const res = await signedPost(voice.app, '/voice/incoming', call());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a plain request id from a proxy and replaces one that is not plain', async () => {
    const kept = await signedPost(voice.app, '/voice/incoming', call(), { headers: { 'X-Request-Id': 'edge-1234.abc' } });
    expect(kept.headers['x-request-id']).toBe('edge-1234.abc');
    const replaced = await signedPost(voice.app, '/voice/incoming', call(), { headers: { 'X-Request-Id': 'has spaces <and> tags' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('times each webhook under its route pattern and status, and anything else under /voice as unmatched', async () => {
    const count = async (route: string, status: string): Promise<number> => {
      const text = await registry.getSingleMetricAsString('gatekeeper_http_request_duration_seconds');
      const line = text.split('\n').find((l) => l.startsWith(`gatekeeper_http_request_duration_seconds_count{method="POST",route="${route}",status="${status}"}`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const before = { incoming: await count('/voice/incoming', '200'), unmatched: await count('unmatched', '404'), refused: await count('/voice/status', '403') };
    await signedPost(voice.app, '/voice/incoming', call());
    await signedPost(voice.app, '/voice/nowhere', call());
    await signedPost(voice.app, '/voice/status', call(), { signature: 'd3Jvbmc=' });
    expect(await count('/voice/incoming', '200')).toBe(before.incoming + 1);
    expect(await count('unmatched', '404')).toBe(before.unmatched + 1);
    expect(await count('/voice/status', '403')).toBe(before.refused + 1);
  });
});

describe('methods and paths under /voice', () => {
  it('checks the signature first, then answers 404 for another method or an unknown path', async () => {
    expectError(await request(voice.app).get('/voice/incoming'), 400, 'missing-signature');
    expectError(await request(voice.app).get('/voice/incoming').set('X-Twilio-Signature', 'd3Jvbmc='), 403, 'invalid-signature');
    const signedGet = await request(voice.app).get('/voice/incoming').set('X-Twilio-Signature', sign(AUTH_TOKEN, `${PUBLIC_URL}/voice/incoming`, {}));
    expectError(signedGet, 404, 'not-found');
    expect(signedGet.body.error.message).toBe('No route for GET /voice/incoming');
    expectError(await signedPost(voice.app, '/voice/nowhere', call()), 404, 'not-found');
    expectError(await request(voice.app).post('/voice/nowhere').type('form').send(call()), 400, 'missing-signature');
  });

  it('answers a webhook URL configured in another letter case, as express routes did', async () => {
    const res = await signedPost(voice.app, '/Voice/Incoming', call());
    expect(res.status).toBe(200);
    expect(verbs(parseTwiml(res.text))).toContain('Dial');
    expectError(await request(voice.app).post('/VOICE/incoming').type('form').send(call()), 400, 'missing-signature');
  });

  it('answers a webhook URL configured with a trailing slash (signed as Twilio requested it)', async () => {
    const res = await signedPost(voice.app, '/voice/incoming/', call());
    expect(res.status).toBe(200);
    expect(verbs(parseTwiml(res.text))).toContain('Dial');
  });
});

describe('bodies', () => {
  it('refuses a charset other than UTF-8, or a content encoding, with 415 before reading the form', async () => {
    const params = call();
    const signature = sign(AUTH_TOKEN, `${PUBLIC_URL}/voice/incoming`, params);
    /** The signed form, sent with these headers. */
    const send = (headers: Record<string, string>) => request(voice.app).post('/voice/incoming').set(headers).set('X-Twilio-Signature', signature).send(new URLSearchParams(params).toString());
    expectError(await send({ 'Content-Type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }), 415, 'unsupported-encoding');
    expectError(await send({ 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' }), 415, 'unsupported-encoding');
    // The same form, declared UTF-8 in any spelling, is Twilio's.
    expect((await send({ 'Content-Type': 'Application/X-WWW-Form-Urlencoded; Charset=UTF-8' })).status).toBe(200);
  });

  it('reads a body of another type as no parameters: signed over its fields it is refused, never parsed', async () => {
    const params = call();
    const json = await request(voice.app)
      .post('/voice/incoming')
      .set('Content-Type', 'application/json')
      .set('X-Twilio-Signature', sign(AUTH_TOKEN, `${PUBLIC_URL}/voice/incoming`, params))
      .send(JSON.stringify(params));
    expectError(json, 403, 'invalid-signature');
  });

  it('checks a repeated parameter name as Twilio signs it, and answers', async () => {
    const params = call();
    const url = `${PUBLIC_URL}/voice/incoming`;
    // Twilio's own signing of a repeated name: its values, de-duplicated and sorted.
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, { ...params, ForwardedFrom: ['+441632960002', '+441632960001'] });
    const res = await request(voice.app)
      .post('/voice/incoming')
      .type('form')
      .set('X-Twilio-Signature', signature)
      .send(`${new URLSearchParams(params).toString()}&ForwardedFrom=%2B441632960002&ForwardedFrom=%2B441632960001`);
    expect(res.status).toBe(200);
    expect(verbs(parseTwiml(res.text))).toContain('Dial');
  });

  it('treats __proto__ in a form as an ordinary, signed field: no pollution, an answer all the same', async () => {
    const entries: Array<[string, string]> = [...Object.entries(call()), ['__proto__', 'x'], ['constructor', 'y']];
    const form = entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    // fromEntries makes `__proto__` an own field, as Twilio would sign it.
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/voice/incoming`, Object.fromEntries(entries));
    const res = await request(voice.app).post('/voice/incoming').type('form').set('X-Twilio-Signature', signature).send(form);
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('a body that does not arrive', () => {
  /** Serves a voice app with a short body deadline on a real port: the stall is a real socket's. */
  async function serve(deadlineMs: number): Promise<{ port: number; close: () => Promise<void> }> {
    const slow = h.app({ bodyDeadlineMs: deadlineMs });
    const server = createServer(slow.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      port,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await slow.background.idle();
      },
    };
  }

  /** Sends the headers of a signed form and `sent` of its body; resolves with what came back once the socket closed. */
  function stall(port: number, sent: (form: string) => string, later?: { afterMs: number; rest: (form: string) => string }): Promise<{ text: string; ms: number }> {
    const params = call();
    const form = new URLSearchParams(params).toString();
    const signature = sign(AUTH_TOKEN, `${PUBLIC_URL}/voice/incoming`, params);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /voice/incoming HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
            `Content-Length: ${Buffer.byteLength(form)}\r\nX-Twilio-Signature: ${signature}\r\nConnection: close\r\n\r\n${sent(form)}`,
        );
        if (later) setTimeout(() => socket.write(later.rest(form)), later.afterMs);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    });
  }

  it('answers 408 in JSON and closes the connection when the body stops short of its Content-Length', async () => {
    const server = await serve(300);
    try {
      const { text } = await stall(server.port, (form) => form.slice(0, 20));
      const [head, body] = text.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 408 /);
      expect(head).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(body ?? '')).toEqual({ error: { code: 'request-timeout', message: expect.any(String) as string } });
      expect(text).not.toContain('<Response');
    } finally {
      await server.close();
    }
  });

  it('counts a request whose caller hung up before the answer as aborted, and does not time it', async () => {
    const server = await serve(5000);
    /** The metric's value for the incoming webhook. */
    const count = async (name: string): Promise<number> => {
      const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{method="POST",route="/voice/incoming"`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const abortedBefore = await count('gatekeeper_http_requests_aborted_total');
    const timedBefore = await count('gatekeeper_http_request_duration_seconds_count');
    try {
      const socket = connect(server.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write('POST /voice/incoming HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\nCallSid=CA');
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      for (let i = 0; i < 100 && (await count('gatekeeper_http_requests_aborted_total')) === abortedBefore; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await count('gatekeeper_http_requests_aborted_total')).toBe(abortedBefore + 1);
      expect(await count('gatekeeper_http_request_duration_seconds_count')).toBe(timedBefore);
    } finally {
      await server.close();
    }
  });

  it('waits for a body that arrives in parts within the deadline, and answers it', async () => {
    const server = await serve(5000);
    try {
      const { text } = await stall(server.port, (form) => form.slice(0, 20), { afterMs: 200, rest: (form) => form.slice(20) });
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text).toContain('<Dial');
    } finally {
      await server.close();
    }
  });
});

describe('a failure after the signature check', () => {
  it('answers the safe route (emergency first), never a 5xx, when deciding throws', async () => {
    const broken = h.app({
      decide: () => {
        throw new Error('a bug in the rules');
      },
    });
    const res = await signedPost(broken.app, '/voice/incoming', call());
    expect(res.status).toBe(200);
    const twiml = parseTwiml(res.text);
    expect(verbs(twiml)[0]).toBe('Gather');
    expect(res.text).toContain(emergencySentence());
    await broken.background.idle();
  });
});
