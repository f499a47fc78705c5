/**
 * The MIME translation: charsets and transfer encodings, multipart and HTML-only bodies, quoted
 * threads, attachments kept or drained, and malformed messages flagged rather than dropped.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parseEmail } from '../../channels/email/parse';
import { buildMessage, readFixture, type Charset, type TransferEncoding } from '../fixtures/mail/builders';

/** Feeds a message in small slices, as the raw-message store does. */
function streamOf(raw: Buffer, slice = 4096): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < raw.length; i += slice) parts.push(raw.subarray(i, i + slice));
  return Readable.from(parts);
}

const SAMPLES: Record<Charset, string> = {
  'utf-8': 'Café – £5 for the “key” ✓\nSecond line: naïve façade',
  'iso-8859-1': 'Café costs £5, the façade is naïve ½\nSecond line: Größe',
  'windows-1252': 'The tap won’t stop – it’s “urgent” €20\nSecond line: café',
};

describe('parseEmail: charsets and transfer encodings', () => {
  const cases: Array<[Charset, TransferEncoding]> = [];
  for (const charset of Object.keys(SAMPLES) as Charset[]) {
    for (const encoding of ['quoted-printable', 'base64', '8bit'] as TransferEncoding[]) cases.push([charset, encoding]);
  }
  it.each(cases)('decodes %s in %s', async (charset, encoding) => {
    const raw = buildMessage({ charset, encoding, text: SAMPLES[charset], subject: 'Encoding test' });
    const parsed = await parseEmail(streamOf(raw, 7));
    expect(parsed.text).toBe(SAMPLES[charset]);
    expect(parsed.malformed).toBe(false);
    expect(parsed.subject).toBe('Encoding test');
  });

  it('decodes RFC 2047 encoded subjects and sender names', async () => {
    const raw = buildMessage({ subject: '=?ISO-8859-1?Q?Caf=E9_repairs?=', from: '=?UTF-8?B?w4lsb2RpZQ==?= <Elodie@Customer.Example>' });
    const parsed = await parseEmail(streamOf(raw));
    expect(parsed.subject).toBe('Café repairs');
    expect(parsed.from).toEqual({ address: 'elodie@customer.example', name: 'Élodie' });
  });
});

describe('parseEmail: structure', () => {
  it('prefers the text part of multipart/alternative', async () => {
    const parsed = await parseEmail(streamOf(buildMessage({ text: 'Plain words here.', html: '<p>HTML <b>words</b> here.</p>' })));
    expect(parsed.text).toBe('Plain words here.');
    expect(parsed.htmlOnly).toBe(false);
  });

  it('converts HTML-only mail to text without link targets or images', async () => {
    const html = '<html><head><style>p{color:red}</style></head><body><p>The <a href="https://x.example/very/long">boiler</a> is broken.</p><img src="cid:logo"><p>Second paragraph.</p></body></html>';
    const parsed = await parseEmail(streamOf(buildMessage({ html, charset: 'windows-1252', encoding: 'base64' })));
    expect(parsed.htmlOnly).toBe(true);
    expect(parsed.text).toBe('The boiler is broken.\n\nSecond paragraph.');
  });

  it('separates an Outlook reply from its quoted thread (Windows-1252, quoted-printable)', async () => {
    const parsed = await parseEmail(streamOf(readFixture('outlook-html-reply.eml')));
    expect(parsed.from?.address).toBe('pat.tenant@customer.example');
    expect(parsed.text).toContain('won’t close');
    expect(parsed.text).toContain('gas leak');
    expect(parsed.replyText).toBe('Thank you. The kitchen tap is still dripping and the cupboard door won’t close. Could someone come on Thursday?\n\nPat');
    expect(parsed.inReplyTo).toBe('<ack.mid-1@landlord.example>');
    expect(parsed.references).toEqual(['<ack.mid-1@landlord.example>']);
  });

  it('separates an HTML-only Outlook reply from its quoted thread', async () => {
    const parsed = await parseEmail(streamOf(readFixture('outlook-html-only-reply.eml')));
    expect(parsed.htmlOnly).toBe(true);
    expect(parsed.replyText).toBe('The damp in the back bedroom is worse – there is black mould on the wall and the café curtains are ruined.\n\nPat');
    expect(parsed.replyText).not.toMatch(/fire/);
  });

  it('lists inline and attached files, keeping only the bytes asked for', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(3000)]);
    const png = randomBytes(500);
    const raw = buildMessage({
      text: 'See attached.',
      html: '<p>See <img src="cid:sig@x"> attached.</p>',
      attachments: [
        { filename: 'letter.pdf', contentType: 'application/pdf', content: pdf },
        { filename: 'sig.png', contentType: 'image/png', content: png, inline: true, contentId: 'sig@x' },
      ],
    });
    const parsed = await parseEmail(streamOf(raw), { keep: (a) => a.contentType === 'application/pdf' });
    const byName = Object.fromEntries(parsed.attachments.map((a) => [a.filename, a]));
    expect(byName['letter.pdf']).toMatchObject({ contentType: 'application/pdf', size: pdf.length, inline: false });
    expect(byName['letter.pdf']?.content?.equals(pdf)).toBe(true);
    expect(byName['sig.png']).toMatchObject({ contentType: 'image/png', size: 500, inline: true });
    expect(byName['sig.png']?.content).toBeUndefined();
    expect(parsed.text).toBe('See attached.');
  });

  it('streams a 20 MB attachment through, counting it without keeping it', async () => {
    const big = randomBytes(20 * 1024 * 1024);
    const raw = buildMessage({ text: 'Photos of the mould.', attachments: [{ filename: 'video.mp4', contentType: 'video/mp4', content: big }] });
    const parsed = await parseEmail(streamOf(raw, 512 * 1024));
    expect(parsed.attachments).toEqual([{ filename: 'video.mp4', contentType: 'video/mp4', size: big.length, inline: false }]);
    expect(parsed.text).toBe('Photos of the mould.');
    expect(parsed.malformed).toBe(false);
  });

  it('reads a bounce: multipart/report, null return path, the failed original as an attachment', async () => {
    const parsed = await parseEmail(streamOf(readFixture('bounce.eml')));
    expect(parsed.replyHeaders['content-type']).toBe('multipart/report');
    expect(parsed.replyHeaders['return-path']).toBe(''); // the null return path, <>
    expect(parsed.from?.address).toBe('mailer-daemon@mx.customer.example');
    expect(parsed.attachments.map((a) => a.contentType)).toContain('message/rfc822');
  });
});

describe('parseEmail: the headers RFC 3834 decides on', () => {
  it('keeps each RFC 2369 / RFC 2919 list header by name, as written (mailparser merges them into one `list` object)', async () => {
    const raw = buildMessage({
      headers: {
        'List-Id': 'Tenants forum <tenants.list.example.com>',
        'List-Unsubscribe': '<https://list.example.com/u?id=1>,\r\n <mailto:leave@list.example.com>',
        'List-Post': 'NO',
        'List-Help': '<mailto:help@list.example.com>',
        'List-Subscribe': '<mailto:join@list.example.com>',
        'List-Owner': '<mailto:owner@list.example.com>',
        'List-Archive': '',
      },
    });
    const parsed = await parseEmail(streamOf(raw, 13));
    expect(parsed.replyHeaders).toMatchObject({
      'list-id': 'Tenants forum <tenants.list.example.com>',
      'list-unsubscribe': '<https://list.example.com/u?id=1>, <mailto:leave@list.example.com>',
      'list-post': 'NO',
      'list-help': '<mailto:help@list.example.com>',
      'list-subscribe': '<mailto:join@list.example.com>',
      'list-owner': '<mailto:owner@list.example.com>',
      'list-archive': '',
    });
  });

  it('reports no list header for a message without one', async () => {
    const parsed = await parseEmail(streamOf(buildMessage({})));
    for (const name of ['list-id', 'list-unsubscribe', 'list-post', 'list-help', 'list-subscribe', 'list-owner', 'list-archive']) {
      expect(parsed.replyHeaders[name]).toBeUndefined();
    }
  });
});

describe('parseEmail: malformed messages are flagged, never dropped', () => {
  it('flags a truncated multipart message and keeps what could be read', async () => {
    const parsed = await parseEmail(streamOf(readFixture('truncated-mime.eml'), 64));
    expect(parsed.malformed).toBe(true);
    expect(parsed.problems).toContain('unterminated-multipart');
    expect(parsed.text).toContain('Water has been coming through the bathroom ceiling');
    expect(parsed.from?.address).toBe('alex.tenant@customer.example');
  });

  it('does not flag a complete multipart message whose closing boundary straddles two slices', async () => {
    const raw = buildMessage({ text: 'a', html: '<p>a</p>' });
    for (const slice of [1, 3, 17, 64]) {
      expect((await parseEmail(streamOf(raw, slice))).problems).toEqual([]);
    }
  });

  it('flags a message without a From address', async () => {
    const raw = Buffer.from('To: housing@landlord.example\r\nSubject: no sender\r\n\r\nHello\r\n');
    const parsed = await parseEmail(streamOf(raw));
    expect(parsed).toMatchObject({ malformed: true, problems: ['no-sender'], text: 'Hello' });
  });

  it('survives arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        const parsed = await parseEmail(streamOf(Buffer.from(bytes), 100));
        expect(typeof parsed.text).toBe('string');
        expect(Array.isArray(parsed.problems)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
