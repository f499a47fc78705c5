/**
 * Scanned letters the gate could not read, end to end over a real redis-server, the real workers (with real
 * PDF reading and local OCR) and real SMTP both ways. A corrupt PDF, a scan OCR finds nothing in, and a
 * bureau email without a letter are each forwarded to a person labelled as unreadable — the
 * `X-Gatekeeper-Letter-Text: unreadable` header, a subject tag and a notice at the top of the body saying
 * that emergency wording was not checked — at once, never held for a response window's digest. Letters read
 * in full carry `extracted` or `ocr` and no such label; a letter read in part carries `partial`; ordinary
 * email carries no such header at all. No new reason code is used. A bureau email with no letter file is
 * labelled once (not also `[Unreadable: check original]`, which is for mail that could not be parsed), and the
 * acknowledgement of a letter read in part that is already over its word limit says it is "more than" the
 * limit, never the count of the part that was read.
 */
import { readHeaderBlock } from '../../channels/email/message-key';
import { extractLetterText } from '../../channels/letters/extract';
import { knownWords, scannedPdf, textPdf } from '../fixtures/letters/pdfs';
import { renderText } from '../fixtures/letters/text-image';
import { blankScanPdf, truncatedPdf } from '../fixtures/letters/unreadable-pdfs';
import { buildMessage } from '../fixtures/mail/builders';
import type { CapturedMail } from '../fixtures/mail/capture-smtp';
import { LETTERS_FROM, MAILBOX, eventually, parse, seed, startPipeline, type Pipeline } from '../fixtures/mail/pipeline-harness';

let p: Pipeline;

const AKHAN = 'a.khan@landlord.example';
/** DESIGN.md §3: the only reason codes there are. */
const REASON_CODES = new Set([
  'no-restriction', 'unidentified', 'ambiguous-identity', 'outside-call-times', 'bank-holiday', 'written-only', 'named-contact',
  'appointment-required', 'word-limit-exceeded', 'response-frequency', 'repeat-issue', 'emergency', 'restriction-check-unavailable',
]);
const PDF = 'application/pdf';

beforeAll(async () => {
  p = await startPipeline();
  await seed(p, {
    staff: [{ id: 'akhan', email: AKHAN, name: 'Ali Khan' }],
    customers: [
      {
        id: 'C3001',
        name: 'Robin Post',
        restriction: {
          measures: [
            { type: 'named-contact', staffId: 'akhan' },
            { type: 'response-frequency', every: 'P7D', weekday: 'fri' },
            { type: 'word-limit', maxWords: 100 },
            { type: 'new-issues-only' },
          ],
        },
      },
      { id: 'C3002', name: 'Sam Typed', email: 'sam.typed@customer.example' },
      { id: 'C3003', name: 'Kit Partial' },
      { id: 'C3004', name: 'Lee Longhand', restriction: { measures: [{ type: 'word-limit', maxWords: 50 }] } },
    ],
  });
}, 60_000);

afterAll(async () => {
  await p?.close();
});

/** Sends a bureau email with these files; resolves with its key and the forward that carries it. */
async function sendLetter(subject: string, files: Array<{ filename: string; content: Buffer; contentType?: string }>): Promise<{ key: string; raw: Buffer; fwd: CapturedMail }> {
  const raw = buildMessage({
    from: `Scanning Bureau <${LETTERS_FROM}>`,
    subject,
    text: 'Scanned letter attached.',
    attachments: files.map((f) => ({ filename: f.filename, contentType: f.contentType ?? PDF, content: f.content })),
  });
  const key = await p.deliver(raw, { from: LETTERS_FROM });
  const fwd = await eventually(async () => p.outbound.messages.find((m) => m.raw.includes(raw) && !m.rcptTo.includes(MAILBOX.print)), 45_000, `the forward of ${subject}`);
  return { key, raw, fwd };
}

/** The value(s) of a header field as it went over the wire (names lower-cased). */
function sent(fwd: CapturedMail, name: string): string[] | undefined {
  return readHeaderBlock(fwd.raw).get(name.toLowerCase());
}

async function triageOf(key: string): Promise<{ routing: { mode: string }; letter?: { problems?: string[]; pages: number } }> {
  return JSON.parse((await p.workers.deps.raw.meta(key))!.triage!) as { routing: { mode: string }; letter?: { problems?: string[]; pages: number } };
}

function expectOnlyFixedReasons(fwd: CapturedMail): void {
  const reasons = (sent(fwd, 'x-gatekeeper-reasons')?.[0] ?? '').split(',').filter((r) => r !== '');
  for (const r of reasons) expect(REASON_CODES.has(r)).toBe(true);
}

describe('a letter that names two customers', () => {
  it('is ambiguous-identity, not the subject’s customer nor unidentified: no restriction is applied', async () => {
    // The bureau's subject says C3001 (a restricted customer); the letter itself says C3999.
    const letter = await textPdf([['Dear', 'Sir,', 'my', 'reference', 'is', 'C3999', 'and', 'the', 'fence', 'is', 'down.']]);
    const { fwd } = await sendLetter('Scanned post #299 C3001', [{ filename: 'scan-299.pdf', content: letter }]);
    expect(sent(fwd, 'x-gatekeeper-reasons')?.[0]?.split(',')).toContain('ambiguous-identity');
    expect(sent(fwd, 'x-gatekeeper-customer')).not.toEqual(['C3001']);
    expect(sent(fwd, 'x-gatekeeper-outcome')).toEqual(['proceed']);
  });
});

describe('a letter the gate could not read', () => {
  it('a corrupt PDF from a restricted customer: labelled unreadable and forwarded to the named contact at once, not held for the weekly digest', async () => {
    const { key, raw, fwd } = await sendLetter('Scanned post #201 C3001', [{ filename: 'scan-201.pdf', content: await truncatedPdf() }]);
    expect(fwd.rcptTo).toEqual([AKHAN]);
    const forward = await parse(fwd);
    expect(forward.subject).toBe('[Letter could not be read automatically] [Restricted: weekly response] [Letter] Scanned post #201 C3001');
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['unreadable']);
    // The notice comes first; the usual summary (with the reply date the arrangement sets) follows it.
    const lines = (forward.text ?? '').split('\n');
    expect(lines[0]).toMatch(/^LETTER COULD NOT BE READ AUTOMATICALLY: the PDF could not be opened \(damaged or locked\)/);
    expect(lines[1]).toContain('read the letter by hand, and check it FIRST for an emergency');
    expect(lines[1]).toContain('emergency wording was NOT checked');
    expect(forward.text).toMatch(/\n\nLetter received .*\nOutcome: proceed \(named-contact, response-frequency\)/);
    expect(forward.text).toMatch(/Reply due: Friday/);
    expect(forward.text).toContain('Words: COUNT BY HAND');
    // The existing headers are as they were: no new reason code.
    expect(sent(fwd, 'x-gatekeeper-reasons')).toEqual(['named-contact,response-frequency']);
    expect(sent(fwd, 'x-gatekeeper-customer')).toEqual(['C3001']);
    expectOnlyFixedReasons(fwd);
    const original = forward.attachments.find((a) => a.contentType === 'message/rfc822');
    expect(original?.content.equals(raw)).toBe(true);

    expect((await triageOf(key)).routing.mode).toBe('named-contact');
    expect(await p.workers.deps.queues.digest.getDelayed()).toHaveLength(0);
    const contact = await p.open.store.contacts.get('C3001', key);
    expect(contact).toMatchObject({ channel: 'letter', status: 'forwarded', reasons: ['named-contact', 'response-frequency'] });
    expect(contact?.words).toBeUndefined();
    const audit = (await p.open.store.audit.latest(50)).find((r) => r.entityId === key && r.action === 'written-contact.decided');
    expect(audit?.details).toMatchObject({ letterText: 'unreadable', letterProblems: ['pdf-unreadable', 'no-text'] });

    // The acknowledgement by post claims nothing about what the letter says: no word count, no repeat, no emergency.
    const printed = await eventually(async () => p.outbound.messages.find((m) => m.rcptTo.includes(MAILBOX.print) && m.raw.includes(Buffer.from('C3001'))), 30_000);
    const pdf = (await parse(printed)).attachments.find((a) => a.contentType === PDF);
    const ack = (await extractLetterText({ filename: 'ack.pdf', contentType: PDF, content: pdf!.content })).text.replace(/\s+/g, ' ');
    expect(ack).toContain('Thank you for your letter');
    expect(ack).toContain('Please remember that we will act on the first 100 words of each letter only.');
    expect(ack).not.toMatch(/words long|\b0 words|already replied|may be an emergency/);
  }, 90_000);

  it('a valid PDF with no text layer, in which OCR finds nothing: labelled unreadable, to the default mailbox', async () => {
    const { key, fwd } = await sendLetter('Scanned post #202', [{ filename: 'scan-202.pdf', content: await blankScanPdf() }]);
    expect(fwd.rcptTo).toEqual([MAILBOX.default]);
    const forward = await parse(fwd);
    expect(forward.subject).toBe('[Letter could not be read automatically] [No customer reference] [Letter] Scanned post #202');
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['unreadable']);
    expect(forward.text).toMatch(/^LETTER COULD NOT BE READ AUTOMATICALLY: the scan has no text layer and OCR found no words in it/);
    expect(forward.text).toContain('emergency wording was NOT checked');
    expectOnlyFixedReasons(fwd);
    // The PDF opened and its one page went to OCR: the text is missing, not the file.
    expect((await triageOf(key)).letter).toMatchObject({ pages: 1, problems: ['no-text'] });
  }, 90_000);

  it('a bureau email with no letter file at all: labelled unreadable, asking for the scan', async () => {
    const { fwd } = await sendLetter('Scanned post #203 C3002', []);
    const forward = await parse(fwd);
    // One label says it: the bureau's email itself was read without fault, so no [Unreadable: check original].
    expect(forward.subject).toBe('[Letter could not be read automatically] [Letter] Scanned post #203 C3002');
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['unreadable']);
    expect(forward.text).toMatch(/^LETTER COULD NOT BE READ AUTOMATICALLY: the scanning bureau’s email has no letter file \(PDF or image\) attached — ask the bureau for the scan\./);
    expect(forward.text).not.toContain('UNREADABLE PARTS');
  }, 60_000);

  it('keeps [EMERGENCY] first when the bureau’s subject line is an emergency, and labels the letter after it', async () => {
    const { fwd } = await sendLetter('Scanned post #204: tenant reports a gas leak', [{ filename: 'scan-204.pdf', content: await truncatedPdf() }]);
    expect(fwd.rcptTo).toEqual([MAILBOX.emergency]);
    const forward = await parse(fwd);
    expect(forward.subject).toBe('[EMERGENCY] [Letter could not be read automatically] [No customer reference] [Letter] Scanned post #204: tenant reports a gas leak');
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['unreadable']);
  }, 60_000);
});

describe('letters read in full, in part, and ordinary email', () => {
  it('a typed letter carries X-Gatekeeper-Letter-Text: extracted and no label; an ordinary email carries no such header', async () => {
    const { fwd } = await sendLetter('Scanned post #205', [{ filename: 'scan-205.pdf', content: await textPdf([['Customer', 'reference:', 'C3002', ...knownWords(40)]]) }]);
    const forward = await parse(fwd);
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['extracted']);
    expect(forward.subject).toBe('[Letter] Scanned post #205');
    expect(forward.text).toMatch(/^Letter received /);
    expect(forward.text).not.toContain('COULD NOT BE READ');

    const email = buildMessage({ from: 'Sam Typed <sam.typed@customer.example>', subject: 'Gate latch', text: 'The latch on the back gate is broken.' });
    await p.deliver(email, { from: 'sam.typed@customer.example' });
    const emailFwd = await eventually(async () => p.outbound.messages.find((m) => m.rcptTo.includes(MAILBOX.default) && m.raw.includes(email)), 30_000);
    expect(sent(emailFwd, 'x-gatekeeper-outcome')).toEqual(['proceed']);
    expect(sent(emailFwd, 'X-Gatekeeper-Letter-Text')).toBeUndefined();
    expect((await parse(emailFwd)).subject).toBe('Gate latch');
  }, 60_000);

  it('a scanned letter read by OCR carries X-Gatekeeper-Letter-Text: ocr and no label', async () => {
    const scan = await scannedPdf([renderText(['DEAR SIR OR MADAM', 'THE BACK GATE LATCH IS BROKEN', 'PLEASE SEND SOMEONE TO FIX IT'])]);
    const { fwd } = await sendLetter('Scanned post #206 C3002', [{ filename: 'scan-206.pdf', content: scan }]);
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['ocr']);
    const forward = await parse(fwd);
    expect(forward.subject).toBe('[Letter] Scanned post #206 C3002');
    expect(forward.text).toMatch(/^Letter received /);
  }, 90_000);

  it('a letter read only in part (a readable page and a corrupt one) carries partial and says what was not checked', async () => {
    const good = await textPdf([['Customer', 'reference:', 'C3003', ...knownWords(30)]]);
    const { fwd } = await sendLetter('Scanned post #207', [
      { filename: 'scan-207-1.pdf', content: good },
      { filename: 'scan-207-2.pdf', content: await truncatedPdf() },
    ]);
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['partial']);
    const forward = await parse(fwd);
    expect(forward.subject).toBe('[Letter only partly read automatically] [Letter] Scanned post #207');
    expect(forward.text).toMatch(/^LETTER ONLY PARTLY READ AUTOMATICALLY: part of it could not be opened\.\n.*checking it first for an emergency/);
    expect(sent(fwd, 'x-gatekeeper-customer')).toEqual(['C3003']);
  }, 60_000);

  it('a letter read in part that is already over the word limit: the acknowledgement says it is more than the limit, never the count of the part read', async () => {
    const good = await textPdf([['Customer', 'reference:', 'C3004', ...knownWords(120)]]);
    const { fwd } = await sendLetter('Scanned post #208', [
      { filename: 'scan-208-1.pdf', content: good },
      { filename: 'scan-208-2.pdf', content: await truncatedPdf() },
    ]);
    expect(sent(fwd, 'X-Gatekeeper-Letter-Text')).toEqual(['partial']);
    expect(sent(fwd, 'x-gatekeeper-reasons')).toEqual(['word-limit-exceeded']);
    // Staff see the machine's count of the part read, marked as a lower bound.
    const counted = /Words: (\d+) of 50 — OVER THE LIMIT: act on the first 50 words only \(at least; count by hand\)/.exec((await parse(fwd)).text ?? '');
    expect(counted).not.toBeNull();
    const words = Number(counted![1]);
    expect(words).toBeGreaterThan(50);

    const printed = await eventually(async () => p.outbound.messages.find((m) => m.rcptTo.includes(MAILBOX.print) && m.raw.includes(Buffer.from('C3004'))), 30_000, 'the acknowledgement of Scanned post #208');
    const pdf = (await parse(printed)).attachments.find((a) => a.contentType === PDF);
    const ack = (await extractLetterText({ filename: 'ack.pdf', contentType: PDF, content: pdf!.content })).text.replace(/\s+/g, ' ');
    expect(ack).toContain('Your letter is more than 50 words long.');
    expect(ack).toContain('We will act on the first 50 words of your letter only.');
    expect(ack).not.toContain(`${words} words`);
  }, 90_000);
});
