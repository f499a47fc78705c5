import { Writable } from 'node:stream';
import fc from 'fast-check';
import winston from 'winston';
import { createLogger, redactText, type Logger } from '../../config/logger';

/** A logger whose JSON lines are collected in memory, through a real winston Stream transport. */
function capture(level: Parameters<typeof createLogger>[0] = 'debug'): { log: Logger; lines: () => Array<Record<string, unknown>>; raw: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = createLogger(level, [new winston.transports.Stream({ stream })]);
  const raw = (): string => chunks.join('');
  return {
    log,
    raw,
    lines: () =>
      raw()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('redactText', () => {
  it.each([
    ['+447700900123', 'E.164 mobile'],
    ['07700 900123', 'UK mobile, spaced'],
    ['07700900123', 'UK mobile, run together'],
    ['020 7946 0000', 'London landline'],
    ['(020) 7946 0000', 'bracketed area code'],
    ['+44 (0)20 7946 0000', 'international with trunk zero'],
    ['0044 20 7946 0000', 'international with 00'],
    ['0161-496-0000', 'hyphenated'],
    ['+1 415 555 2671', 'US'],
    ['+266696687', "Twilio's withheld-number form"],
    ['8675309', 'seven digits'],
  ])('masks %s (%s)', (phone) => {
    const out = redactText(`caller ${phone} rang`);
    expect(out).toBe('caller [phone] rang');
  });

  it.each(['jane.doe@example.org', 'J.Smith+repairs@Housing.Example.co.uk', 'tenant@localhost'])('masks the email address %s', (email) => {
    expect(redactText(`from <${email}> today`)).toBe('from <[email]> today');
  });

  it.each([
    ['2026-11-25', 'an ISO date'],
    ['2026-11-25T10:00:00.000Z', 'an ISO timestamp'],
    ['127.0.0.1', 'an IP address'],
    ['port 3000', 'a short number'],
    ['C12345', 'a customer reference'],
    ['01J9ZKQ4V8T2M6N3P5R7S9W1X0', 'a ULID'],
    ['123e4567-e89b-12d3-a456-426614174000', 'a UUID whose last group is all digits'],
    ['12345678-f32b-44ad-8e16-fa9198de2e20', 'a UUID whose first group is all digits'],
    ['took 35 ms, 2 retries', 'small numbers'],
  ])('leaves %s alone (%s)', (text) => {
    expect(redactText(text)).toBe(text);
  });

  it('masks every UK mobile number however it is spaced', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^7\d{9}$/), fc.constantFrom('0', '+44', '+44 ', '0044 '), fc.constantFrom('', ' ', '-'), (rest, prefix, sep) => {
        const written = `${prefix}${rest.slice(0, 4)}${sep}${rest.slice(4)}`;
        const out = redactText(`call me on ${written} please`);
        expect(out).toBe('call me on [phone] please');
      }),
    );
  });
});

describe('createLogger', () => {
  it('writes JSON lines with level, message and timestamp', () => {
    const { log, lines } = capture();
    log.info('started', { port: 3000 });
    expect(lines()).toEqual([expect.objectContaining({ level: 'info', message: 'started', port: 3000, service: 'gatekeeper', timestamp: expect.any(String) })]);
  });

  it('redacts phone numbers and email addresses in the message', () => {
    const { log, lines, raw } = capture();
    log.info('call from +447700900123 for jane@example.org');
    expect(lines()[0]?.message).toBe('call from [phone] for [email]');
    expect(raw()).not.toMatch(/7700900123|jane@example\.org/);
  });

  it('redacts deep inside metadata: nested objects, arrays, keys, Maps and errors', () => {
    const { log, raw, lines } = capture();
    const err = Object.assign(new Error('no customer for 07700 900123'), { code: 'not-found' });
    log.warn('lookup', {
      contact: { from: '07700 900123', to: ['a@b.org', { cc: 'c.d@e.co.uk' }] },
      byEmail: { 'x@y.org': 'C1' },
      identities: new Map([['phone', '+441632960999']]),
      err,
    });
    const text = raw();
    for (const secret of ['7700900123', '7700 900123', 'a@b.org', 'c.d@e.co.uk', 'x@y.org', '1632960999']) expect(text).not.toContain(secret);
    const entry = lines()[0] as { contact: unknown; err: { message: string; code: string; stack: string }; identities: unknown };
    expect(entry.contact).toEqual({ from: '[phone]', to: ['[email]', { cc: '[email]' }] });
    expect(entry.identities).toEqual({ phone: '[phone]' });
    expect(entry.err.message).toBe('no customer for [phone]');
    expect(entry.err.code).toBe('not-found');
    expect(entry.err.stack).toContain('no customer for [phone]');
  });

  it('drops message-body fields entirely, at any depth and however spelled', () => {
    const { log, lines, raw } = capture();
    log.info('email received', {
      body: 'SECRET-1',
      text: 'SECRET-2',
      mail: { html: '<p>SECRET-3</p>', raw: 'SECRET-4', content: 'SECRET-5', 'message-body': 'SECRET-6', messageBody: 'SECRET-7' },
      parts: [{ Text: 'SECRET-8', subjectLength: 12 }],
      messageId: 'abc',
    });
    expect(raw()).not.toContain('SECRET');
    expect(lines()[0]).toMatchObject({ mail: {}, parts: [{ subjectLength: 12 }], messageId: 'abc' });
    expect(lines()[0]).not.toHaveProperty('body');
    expect(lines()[0]).not.toHaveProperty('text');
  });

  it('replaces credentials', () => {
    const { log, raw, lines } = capture();
    log.info('auth', { headers: { authorization: 'Bearer gk_abc', cookie: 'sid=1' }, token: 'gk_def' });
    expect(raw()).not.toMatch(/gk_abc|gk_def|sid=1/);
    expect(lines()[0]).toMatchObject({ headers: { authorization: '[redacted]', cookie: '[redacted]' }, token: '[redacted]' });
  });

  it('redacts an Error logged on its own', () => {
    const { log, lines } = capture();
    log.error(new Error('bounce from jane@example.org'));
    const entry = lines()[0] as { message: string; stack: string };
    expect(entry.message).toBe('bounce from [email]');
    expect(entry.stack).toContain('bounce from [email]');
  });

  it('survives cycles', () => {
    const { log, lines } = capture();
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    log.info('cyclic', { a });
    expect(lines()[0]).toMatchObject({ a: { name: 'a', self: '[circular]' } });
  });

  it('honours the level, and silent logs nothing', () => {
    const warnOnly = capture('warn');
    warnOnly.log.info('hidden');
    warnOnly.log.warn('shown');
    expect(warnOnly.lines().map((l) => l.message)).toEqual(['shown']);

    const silent = capture('silent');
    silent.log.error('nothing');
    expect(silent.raw()).toBe('');
  });
});
