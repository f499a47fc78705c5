/** Message keys and the raw collector: how a message is recognised when it comes twice, and counted as it streams. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { messageKeyOf, normaliseMessageId, readHeaderBlock } from '../../channels/email/message-key';
import { RawCollector } from '../../channels/email/raw-collector';
import { splitIntoParts } from '../../workers/digest-worker';
import { buildMessage } from '../fixtures/mail/builders';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('normaliseMessageId', () => {
  it('takes the bracketed id, drops whitespace and lower-cases the domain only', () => {
    expect(normaliseMessageId('<Abc.DEF@Mail.Example.COM>')).toBe('Abc.DEF@mail.example.com');
    expect(normaliseMessageId('  <abc@x.example> (comment)')).toBe('abc@x.example');
    expect(normaliseMessageId('<abc@\r\n x.example>')).toBe('abc@x.example');
    expect(normaliseMessageId('no-brackets@x.example')).toBe('no-brackets@x.example');
    expect(normaliseMessageId('<>')).toBeUndefined();
    expect(normaliseMessageId(undefined)).toBeUndefined();
  });
});

describe('readHeaderBlock', () => {
  it('unfolds continuation lines and stops at the first empty line', () => {
    const head = readHeaderBlock(Buffer.from('Subject: one\r\n two\r\nMessage-ID:\r\n <a@b>\r\n\r\nMessage-ID: <body@x>\r\n'));
    expect(head.get('subject')).toEqual(['one two']);
    expect(head.get('message-id')).toEqual(['<a@b>']);
  });
});

describe('RawCollector', () => {
  it('gives the same key, size and hash however the stream is chunked', () => {
    const raw = buildMessage({ messageId: '<same@customer.example>', text: 'x'.repeat(5000) });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 10 }), (cuts) => {
        const c = new RawCollector(1_000_000);
        let at = 0;
        for (const cut of cuts) {
          c.push(raw.subarray(at, at + cut));
          at += cut;
        }
        if (at < raw.length) c.push(raw.subarray(at));
        const done = c.finish();
        expect(done).toMatchObject({ size: raw.length, sha256: sha(raw), messageKey: `mid-${sha('same@customer.example')}` });
        expect(Buffer.concat(done.chunks).equals(raw)).toBe(true);
      }),
    );
  });

  it('keys a message without a Message-ID by its bytes', () => {
    const raw = buildMessage({ messageId: null });
    const c = new RawCollector(1_000_000);
    c.push(raw);
    expect(c.finish().messageKey).toBe(`sha-${sha(raw)}`);
    expect(messageKeyOf(undefined, 'ab')).toBe('sha-ab');
  });

  it('counts past the limit without keeping the bytes', () => {
    const c = new RawCollector(10);
    c.push(Buffer.alloc(8));
    expect(c.tooLarge).toBe(false);
    c.push(Buffer.alloc(8));
    c.push(Buffer.alloc(8));
    expect(c.tooLarge).toBe(true);
    expect(c.size).toBe(24);
  });
});

describe('splitIntoParts (digest parts)', () => {
  it('keeps order, puts every item in exactly one part, and exceeds the limit only with a single oversized item', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 40 }), fc.integer({ min: 1, max: 150 }), (sizes, limit) => {
        const items = sizes.map((size, i) => ({ size, i }));
        const parts = splitIntoParts(items, limit);
        expect(parts.flat().map((x) => x.i)).toEqual(items.map((x) => x.i));
        for (const part of parts) {
          expect(part.length).toBeGreaterThan(0);
          const total = part.reduce((n, x) => n + x.size, 0);
          if (part.length > 1) expect(total).toBeLessThanOrEqual(limit);
        }
      }),
    );
  });
});
