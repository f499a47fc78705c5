/**
 * keepEmptyHeaders: the nodemailer plugin that sends a header field with an empty value (nodemailer
 * alone leaves it out). The transports' contract suite checks it over real SMTP and the outbox; these
 * check the stream edit itself, with the message arriving in arbitrary slices.
 */
import { Readable, type Transform } from 'node:stream';
import { text } from 'node:stream/consumers';
import { keepEmptyHeaders, type PluginMail } from '../../channels/email/compose';

/** Runs the plugin over `headers`; returns the transform factory it registered, if any. */
function install(headers: PluginMail['data']['headers']): (() => Transform) | undefined {
  let factory: (() => Transform) | undefined;
  let called = 0;
  keepEmptyHeaders({ data: { headers }, message: { transform: (t) => (factory = t) } }, () => (called += 1));
  expect(called).toBe(1);
  return factory;
}

/** Pipes `message` through a fresh transform in slices of `slice` bytes. */
function through(factory: () => Transform, message: string, slice: number): Promise<string> {
  const bytes = Buffer.from(message, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += slice) parts.push(bytes.subarray(i, i + slice));
  return text(Readable.from(parts).pipe(factory()));
}

const MESSAGE = [
  'X-Gatekeeper-Outcome: proceed',
  'Subject: a long subject that nodemailer',
  ' folded onto a second line',
  'Content-Type: multipart/mixed;',
  ' boundary="--_b"',
  '',
  '----_b',
  'Content-Type: message/rfc822',
  '',
  'X-Gatekeeper-Reasons: named-contact',
  'Subject: the original',
  '',
  'Body',
  '----_b--',
  '',
].join('\r\n');

describe('keepEmptyHeaders', () => {
  it('registers nothing when no header value is empty', () => {
    expect(install({ 'X-Gatekeeper-Reasons': 'named-contact', 'Auto-Submitted': 'auto-generated' })).toBeUndefined();
    expect(install(undefined)).toBeUndefined();
  });

  it.each([1, 7, 64, 4096])('adds the empty field to the top-level header block only, whatever the slices (%i bytes)', async (slice) => {
    const factory = install({ 'X-Gatekeeper-Outcome': 'proceed', 'X-Gatekeeper-Reasons': '', 'X-Gatekeeper-Customer': 'C1' });
    expect(factory).toBeDefined();
    const out = await through(factory!, MESSAGE, slice);
    const [head, ...rest] = out.split('\r\n\r\n');
    expect(head).toBe(`${MESSAGE.split('\r\n\r\n')[0]}\r\nX-Gatekeeper-Reasons: `);
    // Everything after the header block is untouched, the attached original's own field included.
    expect(rest.join('\r\n\r\n')).toBe(MESSAGE.split('\r\n\r\n').slice(1).join('\r\n\r\n'));
  });

  it('does not add a field the header block already has', async () => {
    const factory = install({ 'x-gatekeeper-outcome': '' });
    expect(await through(factory!, MESSAGE, 5)).toBe(MESSAGE);
  });

  it('ignores a name that is not a header field name (no header injection)', () => {
    expect(install({ 'X-Bad: x\r\nBcc': '', 'X Space': '' })).toBeUndefined();
  });

  it('gives each read of the message a fresh stream (nodemailer reads it again on a retry)', async () => {
    const factory = install({ 'X-Gatekeeper-Reasons': '' })!;
    expect(factory()).not.toBe(factory());
    expect(await through(factory, MESSAGE, 3)).toBe(await through(factory, MESSAGE, 11));
  });
});
