/**
 * Letters of a restriction's life, end to end: a transition over HTTP → the transition hook queues a job →
 * the notifications worker renders the letter and sends it through a real SMTP relay → the captured mail is
 * parsed back, and the PDF's text read back with unpdf.
 */
import { createServer, type Socket } from 'node:net';
import request from 'supertest';
import { extractPdfText } from '../../channels/letters/pdf-text';
import { createLogger } from '../../config/logger';
import { composeGateway } from '../../gateway/compose';
import { closeConnection, createQueueConnection } from '../../store/connections';
import { queueMissingLetters, runDailySweep } from '../../workers/review-scheduler';
import { freePort } from '../support/redis-server';
import { sendLetter } from '../../workers/notification-worker';
import { letterIdFor } from '../../workers/letter-store';
import { createLifecycleQueues, enqueueLetter, letterJobId, lifecycleTransitionHook } from '../../workers/lifecycle-queues';
import {
  activeRestriction,
  bearer,
  createCast,
  EMERGENCY_NATIONAL,
  flat,
  PRINT_MAILBOX,
  PRIVACY_NOTICE_URL,
  startLifecycleHarness,
  WRITE_TO_EMAIL,
  type Cast,
  type LifecycleHarness,
  type Mail,
} from './lifecycle-harness';

let h: LifecycleHarness;
let cast: Cast;

beforeAll(async () => {
  h = await startLifecycleHarness();
  cast = await createCast(h);
  await request(h.gateway.app)
    .put('/v1/customers/C123')
    .set(bearer(cast.tess))
    .send({ name: 'Pat Example', phones: ['07700 900123'], emails: ['Pat@Example.org'], needs: [] })
    .expect(201);
  await request(h.gateway.app)
    .put('/v1/customers/C900')
    .set(bearer(cast.tess))
    .send({ name: 'Robin Reader', phones: ['07700 900900'], emails: ['robin@example.org'], needs: ['visual-impairment', 'literacy-support'], preferredChannel: 'letter' })
    .expect(201);
});

afterAll(async () => {
  await h.close();
});

/** Polls `check` until it holds (the worker runs asynchronously). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const forRestriction = (id: string) => (m: Mail) => m.parsed.headers.get('x-gatekeeper-restriction') === id;
const pdfOf = (m: Mail) => {
  const pdf = m.parsed.attachments.find((a) => a.contentType === 'application/pdf');
  if (!pdf) throw new Error(`no PDF attached to "${m.parsed.subject ?? ''}"`);
  return pdf;
};

describe('the notification on approval', () => {
  let id: string;
  let mails: Mail[];

  beforeAll(async () => {
    id = await activeRestriction(h, cast, { customerId: 'C123', reviewAt: '2027-02-01T10:00:00Z' });
    mails = await h.waitForMail(forRestriction(id), 2);
  });

  it('goes to the print mailbox as a PDF, and to the customer by email', () => {
    expect(mails).toHaveLength(2);
    const print = mails.find((m) => m.rcptTo.includes(PRINT_MAILBOX));
    const email = mails.find((m) => m.rcptTo.includes('pat@example.org'));
    expect(print?.parsed.subject).toBe(`Print and post: Changes to how you can contact us — C123, ref ${id}`);
    expect(print?.parsed.text).toContain('standard print (12 pt)');
    expect(print?.parsed.text).toContain('The customer has also been sent this letter by email.');
    expect(email?.parsed.subject).toBe(`Changes to how you can contact us (our reference ${id})`);
    expect(email?.parsed.from?.value[0]?.address).toBe(WRITE_TO_EMAIL);
    expect(email?.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(email && pdfOf(email).filename).toMatch(/-notification\.pdf$/);
  });

  it('says everything the policy requires, in the printed PDF and in the email', async () => {
    const print = mails.find((m) => m.rcptTo.includes(PRINT_MAILBOX));
    if (!print) throw new Error('no print mail');
    const pdf = flat((await extractPdfText(pdfOf(print).content)).text);
    const email = flat(mails.find((m) => m.rcptTo.includes('pat@example.org'))?.parsed.text ?? '');
    for (const text of [pdf, email]) {
      expect(text).toContain('Dear Pat Example');
      // What led to it, in plain words — and never the internal summary or evidence.
      expect(text).toContain('You have been contacting us very often');
      expect(text).not.toContain('INTERNAL');
      expect(text).not.toContain('LOG-2026-10');
      // Each restriction, from when, the review date, the single point of contact.
      expect(text).toContain('You can phone us on Tuesdays and Thursdays between 10am and 12 noon');
      expect(text).toContain('Jo Smith will deal with your calls and enquiries. When Jo Smith is away, Ali Khan will help you instead.');
      expect(text).toContain('from Wednesday 25 November 2026');
      expect(text).toContain('We will review this decision by Monday 1 February 2027');
      expect(text).toContain('Jo Smith (Tenancy Specialist) will be your single point of contact');
      // Emergencies at any time; appeal in writing, to whom and by when (20 working days after approval).
      expect(text).toContain(`call us on ${EMERGENCY_NATIONAL} at any time`);
      expect(text).toContain('appeal in writing to The Tenancy Services Manager so that we receive it by Wednesday 23 December 2026');
      expect(text).toContain(`By email: ${WRITE_TO_EMAIL}`);
      // The Housing Ombudsman, and the privacy notice.
      expect(text).toContain('Housing Ombudsman');
      expect(text).toContain(PRIVACY_NOTICE_URL);
      expect(text).toContain(id);
    }
  });

  it('is stored on the restriction with its PDF, and audited once', async () => {
    const letters = await h.deps.letters.list('C123', id);
    expect(letters).toHaveLength(1);
    const [letter] = letters;
    expect(letter).toMatchObject({
      id: letterIdFor(id, 3),
      kind: 'notification',
      transition: 'approve',
      transitionAt: '2026-11-25T10:00:00.000Z',
      channels: ['print', 'email'],
      variants: { largePrint: false, plainText: false },
    });
    expect(letter?.pdf.key).toBe(`gk:{c:C123}:letter-pdf:${letterIdFor(id, 3)}`);
    expect(await h.connection.llen(`gk:{c:C123}:letters:${id}`)).toBe(1);
    const stored = await h.deps.letters.pdf('C123', id, letterIdFor(id, 3));
    const sent = pdfOf(mails.find((m) => m.rcptTo.includes(PRINT_MAILBOX)) as Mail).content;
    expect(stored?.equals(sent)).toBe(true);
    expect(stored?.length).toBe(letter?.pdf.bytes);
    const audit = await h.gateway.store.audit.latest(50);
    expect(audit.filter((a) => a.action === 'letter.sent' && a.entityId === id)).toHaveLength(1);
  });

  it('is sent once, however often the job or the hook runs again', async () => {
    const before = h.smtp.messages.length;
    const r = await h.gateway.store.restrictions.get(id);
    if (!r) throw new Error('restriction missing');
    await lifecycleTransitionHook(h.producer)(r, r, 'approve');
    expect(await enqueueLetter(h.producer, r, 3)).toBe(true);
    const again = await sendLetter(h.deps, { restrictionId: id, customerId: 'C123', historyLength: 3, action: 'approve' });
    expect(again).toEqual({ status: 'skipped', reason: 'already-sent' });
    expect(await h.producer.notifications.getJobCountByTypes('waiting', 'active', 'delayed')).toBe(0);
    expect(h.smtp.messages.length).toBe(before);
    expect(await h.deps.letters.list('C123', id)).toHaveLength(1);
  });
});

describe('letters in the formats the customer needs', () => {
  it('sends large print with a plain-text copy, by post only, to a customer who prefers letters', async () => {
    const id = await activeRestriction(h, cast, { customerId: 'C900', reviewAt: '2027-02-01T10:00:00Z' });
    const [print] = await h.waitForMail(forRestriction(id));
    if (!print) throw new Error('no print mail');
    // The letter is recorded only after every part was handed over, so any (wrong) email has arrived by then.
    await eventually(async () => (await h.deps.letters.list('C900', id)).length === 1);
    expect((await h.mails()).filter((m) => m.rcptTo.includes('robin@example.org'))).toHaveLength(0);
    expect(print.rcptTo).toEqual([PRINT_MAILBOX]);
    expect(print.parsed.text).toContain('LARGE PRINT (18 pt)');
    expect(print.parsed.text).toContain('The customer gets this letter by post only.');
    const pdf = pdfOf(print);
    expect(pdf.filename).toMatch(/-notification-large-print\.pdf$/);
    const txt = print.parsed.attachments.find((a) => a.contentType.startsWith('text/plain'));
    expect(txt?.filename).toMatch(/-notification-large-print\.txt$/);
    expect(txt?.content.toString('utf8')).toContain('Dear Robin Reader');
    expect(txt?.content.toString('utf8')).toContain('Housing Ombudsman');

    // 18 pt text needs more pages than the same letter at 12 pt.
    const standard = (await h.mails()).find((m) => m.rcptTo.includes(PRINT_MAILBOX) && m.parsed.text?.includes('standard print'));
    const large = await extractPdfText(pdf.content);
    const normal = await extractPdfText(pdfOf(standard as Mail).content);
    expect(large.totalPages).toBeGreaterThan(normal.totalPages);
    expect(flat(large.text)).toContain('Dear Robin Reader');

    const [letter] = await h.deps.letters.list('C900', id);
    expect(letter).toMatchObject({ channels: ['print'], variants: { largePrint: true, plainText: true } });
  });
});

describe('variation, review and lifting letters', () => {
  it('sends a letter of its own for each, stored in order on the restriction', async () => {
    const app = h.gateway.app;
    const id = await activeRestriction(h, cast, { customerId: 'C123', reviewAt: '2027-02-01T10:00:00Z' });
    await h.waitForMail(forRestriction(id), 2);

    await request(app)
      .post(`/v1/restrictions/${id}/vary`)
      .set(bearer(cast.tess))
      .send({ measures: [...(await h.gateway.store.restrictions.get(id))!.measures, { type: 'word-limit', maxWords: 300 }], note: 'Your recent emails have been very long.' })
      .expect(200);
    const varied = await h.waitForMail((m) => forRestriction(id)(m) && m.parsed.headers.get('x-gatekeeper-letter') === 'variation', 2);
    const variedPdf = flat((await extractPdfText(pdfOf(varied[0] as Mail).content)).text);
    expect(varied[0]?.parsed.subject).toContain('A change to how you can contact us');
    expect(variedPdf).toContain('Your recent emails have been very long.');
    expect(variedPdf).toContain('Please keep each letter or email to 300 words or fewer.');
    expect(variedPdf).toContain('by Wednesday 23 December 2026'); // a variation may be appealed too
    expect(variedPdf).toContain(EMERGENCY_NATIONAL);

    await request(app)
      .post(`/v1/restrictions/${id}/review`)
      .set(bearer(cast.tess))
      .send({ outcome: 'continue', note: 'Contact is still very frequent.', nextReviewAt: '2027-03-01T10:00:00Z' })
      .expect(200);
    const reviewed = await h.waitForMail((m) => forRestriction(id)(m) && m.parsed.headers.get('x-gatekeeper-letter') === 'review-outcome', 2);
    const reviewedText = flat(reviewed.find((m) => m.rcptTo.includes('pat@example.org'))?.parsed.text ?? '');
    expect(reviewedText).toContain('The outcome of our review of how you can contact us');
    expect(reviewedText).toContain('We will review them again by Monday 1 March 2027');

    await request(app).post(`/v1/restrictions/${id}/lift`).set(bearer(cast.tess)).send({ reason: 'Contact has settled down.' }).expect(200);
    const lifted = await h.waitForMail((m) => forRestriction(id)(m) && m.parsed.headers.get('x-gatekeeper-letter') === 'lifting', 2);
    const liftedPdf = flat((await extractPdfText(pdfOf(lifted[0] as Mail).content)).text);
    expect(liftedPdf).toContain('The arrangements for contacting us have ended');
    expect(liftedPdf).toContain('Contact has settled down.');
    expect(liftedPdf).toContain('like any other customer');
    expect(liftedPdf).not.toContain('right to appeal');

    const letters = await h.deps.letters.list('C123', id);
    expect(letters.map((l) => [l.kind, l.transition])).toEqual([
      ['notification', 'approve'],
      ['variation', 'vary'],
      ['review-outcome', 'review:continue'],
      ['lifting', 'lift'],
    ]);
  });

  it('sends no letter for steps the customer is not written to about', async () => {
    const app = h.gateway.app;
    const before = h.smtp.messages.length;
    const requested = await request(app)
      .post('/v1/restrictions')
      .set(bearer(cast.sam))
      .send({ customerId: 'C123', category: 'other', summary: 'x', evidence: [{ type: 'note', reference: 'N1' }], authorisedBy: 'mia', noWarningReason: 'Threats made' })
      .expect(201);
    const id = (requested.body as { id: string }).id;
    await request(app).post(`/v1/restrictions/${id}/reject`).set(bearer(cast.tess)).send({ reason: 'Not proportionate' }).expect(200);
    expect(await h.producer.notifications.getJob(`letter.${letterIdFor(id, 2)}`)).toBeUndefined();
    expect(h.smtp.messages.length).toBe(before);
  });
});

describe('the outcome of an appeal', () => {
  const NOW = '2026-11-25T10:00:00Z';
  const REASONS = 'We listened to your calls from October again. The arrangements are still needed so that we can help you and our other customers fairly.';
  const letterKind = (m: Mail) => m.parsed.headers.get('x-gatekeeper-letter');

  afterEach(() => h.setNow(NOW));

  /** Records an appeal received on 30 November and decides it on 9 December, by a ts-manager not involved before. */
  async function appealDecided(id: string, outcome: Record<string, unknown>): Promise<void> {
    const app = h.gateway.app;
    h.setNow('2026-12-01T09:00:00Z');
    await request(app).post(`/v1/restrictions/${id}/appeal`).set(bearer(cast.tess)).send({ receivedAt: '2026-11-30', grounds: 'INTERNAL-GROUNDS: the call times clash with work' }).expect(200);
    h.setNow('2026-12-09T15:00:00Z');
    await request(app).post(`/v1/restrictions/${id}/appeal-outcome`).set(bearer(cast.tara)).send(outcome).expect(200);
  }

  describe('dismissed', () => {
    let id: string;
    let mails: Mail[];

    beforeAll(async () => {
      id = await activeRestriction(h, cast, { customerId: 'C123', reviewAt: '2027-02-01T10:00:00Z' });
      await h.waitForMail(forRestriction(id), 2);
      await appealDecided(id, { outcome: 'dismissed', note: REASONS });
      mails = await h.waitForMail((m) => forRestriction(id)(m) && letterKind(m) === 'appeal-outcome', 2);
    });

    it('sends the customer a letter of its own, printed and posted and by email', async () => {
      expect(mails).toHaveLength(2);
      const print = mails.find((m) => m.rcptTo.includes(PRINT_MAILBOX));
      const email = mails.find((m) => m.rcptTo.includes('pat@example.org'));
      expect(print?.parsed.subject).toBe(`Print and post: The outcome of your appeal — C123, ref ${id}`);
      expect(email?.parsed.subject).toBe(`The outcome of your appeal (our reference ${id})`);
      expect(email?.parsed.from?.value[0]?.address).toBe(WRITE_TO_EMAIL);
      expect(email && pdfOf(email).filename).toMatch(/-appeal-outcome\.pdf$/);
      await eventually(async () => (await h.deps.letters.list('C123', id)).length === 2);
      const letters = await h.deps.letters.list('C123', id);
      expect(letters.map((l) => [l.id, l.kind, l.transition])).toEqual([
        [letterIdFor(id, 3), 'notification', 'approve'],
        [letterIdFor(id, 5), 'appeal-outcome', 'appeal:dismissed'],
      ]);
      expect(letters[1]).toMatchObject({ transitionAt: '2026-12-09T15:00:00.000Z', channels: ['print', 'email'], variants: { largePrint: false, plainText: false } });
      const audit = await h.gateway.store.audit.latest(100);
      expect(audit.filter((a) => a.action === 'letter.sent' && a.entityId === id && a.details?.kind === 'appeal-outcome')).toHaveLength(1);
    });

    it('gives the outcome and its reasons, restates the arrangements, and says when they will be reviewed, how to report an emergency, and where to go next', async () => {
      const print = mails.find((m) => m.rcptTo.includes(PRINT_MAILBOX));
      const pdf = flat((await extractPdfText(pdfOf(print as Mail).content)).text);
      const email = flat(mails.find((m) => m.rcptTo.includes('pat@example.org'))?.parsed.text ?? '');
      for (const text of [pdf, email]) {
        expect(text).toContain('Dear Pat Example');
        expect(text).toContain('The outcome of your appeal');
        expect(text).toContain('We received your appeal on Monday 30 November 2026');
        expect(text).toContain('A manager who was not involved in the original decision has considered your appeal');
        expect(text).toContain('On Wednesday 9 December 2026 they decided that the arrangements should stay as they are');
        expect(text).toContain(REASONS);
        expect(text).toContain('You can phone us on Tuesdays and Thursdays between 10am and 12 noon');
        expect(text).toContain('Jo Smith will deal with your calls and enquiries');
        expect(text).toContain('We will review these arrangements by Monday 1 February 2027');
        expect(text).toContain(`call us on ${EMERGENCY_NATIONAL} at any time`);
        expect(text).toContain('make a complaint through our complaints procedure');
        expect(text).toContain('Housing Ombudsman');
        expect(text).toContain(PRIVACY_NOTICE_URL);
        expect(text).toContain(id);
        // No further appeal is offered, and nothing internal (the request's summary, the grounds as recorded) is quoted.
        expect(text).not.toContain('right to appeal');
        expect(text).not.toContain('INTERNAL');
      }
    });

    it('is sent once, however often the request, the hook, the job or the sweep runs again', async () => {
      const before = h.smtp.messages.length;
      // The request again: the appeal is decided, so there is no second transition.
      await request(h.gateway.app).post(`/v1/restrictions/${id}/appeal-outcome`).set(bearer(cast.tara)).send({ outcome: 'dismissed', note: REASONS }).expect(409);
      const r = await h.gateway.store.restrictions.get(id);
      if (!r) throw new Error('restriction missing');
      expect(r.history).toHaveLength(5);
      expect(await h.producer.notifications.getJob(letterJobId(id, 5))).toBeDefined();
      await lifecycleTransitionHook(h.producer)(r, r, 'appeal-outcome');
      expect(await enqueueLetter(h.producer, r, 5)).toBe(true);
      expect(await sendLetter(h.deps, { restrictionId: id, customerId: 'C123', historyLength: 5, action: 'appeal:dismissed' })).toEqual({ status: 'skipped', reason: 'already-sent' });
      expect(await queueMissingLetters(h.deps, new Date('2026-12-10T06:00:00Z'))).not.toContain(letterIdFor(id, 5));
      expect(await h.producer.notifications.getJobCountByTypes('waiting', 'active', 'delayed')).toBe(0);
      expect(h.smtp.messages.length).toBe(before);
      expect((await h.deps.letters.list('C123', id)).filter((l) => l.kind === 'appeal-outcome')).toHaveLength(1);
    });
  });

  it('dismissed: large print with a plain-text copy, by post only, for a customer whose needs ask for them', async () => {
    const id = await activeRestriction(h, cast, { customerId: 'C900', reviewAt: '2027-02-01T10:00:00Z' });
    await h.waitForMail(forRestriction(id));
    await appealDecided(id, { outcome: 'dismissed', note: REASONS });
    const [print] = await h.waitForMail((m) => forRestriction(id)(m) && letterKind(m) === 'appeal-outcome');
    await eventually(async () => (await h.deps.letters.list('C900', id)).length === 2);
    expect((await h.mails()).filter((m) => m.rcptTo.includes('robin@example.org'))).toHaveLength(0);
    expect(print?.rcptTo).toEqual([PRINT_MAILBOX]);
    expect(print?.parsed.text).toContain('LARGE PRINT (18 pt)');
    expect(pdfOf(print as Mail).filename).toMatch(/-appeal-outcome-large-print\.pdf$/);
    expect(flat((await extractPdfText(pdfOf(print as Mail).content)).text)).toContain('A manager who was not involved in the original decision');
    const txt = print?.parsed.attachments.find((a) => a.contentType.startsWith('text/plain'));
    expect(txt?.filename).toMatch(/-appeal-outcome-large-print\.txt$/);
    const plain = txt?.content.toString('utf8') ?? '';
    expect(plain).toContain('Dear Robin Reader');
    expect(plain).toContain(REASONS);
    expect(plain).toContain(`call us on ${EMERGENCY_NATIONAL} at any time`);
    const [, letter] = await h.deps.letters.list('C900', id);
    expect(letter).toMatchObject({ kind: 'appeal-outcome', channels: ['print'], variants: { largePrint: true, plainText: true } });
  });

  it('upheld still ends the arrangements with the lifting letter', async () => {
    const id = await activeRestriction(h, cast, { customerId: 'C123', reviewAt: '2027-02-01T10:00:00Z' });
    await h.waitForMail(forRestriction(id), 2);
    await appealDecided(id, { outcome: 'upheld', note: 'The call times clash with your working hours.' });
    const lifted = await h.waitForMail((m) => forRestriction(id)(m) && letterKind(m) === 'lifting', 2);
    const text = flat(lifted.find((m) => m.rcptTo.includes('pat@example.org'))?.parsed.text ?? '');
    expect(text).toContain('The arrangements for contacting us have ended');
    expect(text).toContain('We have considered your appeal and agreed with it. The call times clash with your working hours.');
    await eventually(async () => (await h.deps.letters.list('C123', id)).length === 2);
    expect((await h.deps.letters.list('C123', id)).map((l) => [l.kind, l.transition])).toEqual([
      ['notification', 'approve'],
      ['lifting', 'appeal:upheld'],
    ]);
    expect((await h.mails()).filter((m) => forRestriction(id)(m) && letterKind(m) === 'appeal-outcome')).toHaveLength(0);
  });

  it('varied still sends the variation letter with the new arrangements', async () => {
    const id = await activeRestriction(h, cast, { customerId: 'C123', reviewAt: '2027-02-01T10:00:00Z' });
    await h.waitForMail(forRestriction(id), 2);
    await appealDecided(id, {
      outcome: 'varied',
      note: 'We have added Monday afternoons, when you are not at work.',
      measures: [{ type: 'call-times', windows: [{ days: ['mon'], start: '14:00', end: '16:00' }, { days: ['tue', 'thu'], start: '10:00', end: '12:00' }], bankHolidays: 'closed' }],
    });
    const varied = await h.waitForMail((m) => forRestriction(id)(m) && letterKind(m) === 'variation', 2);
    const text = flat(varied.find((m) => m.rcptTo.includes('pat@example.org'))?.parsed.text ?? '');
    expect(text).toContain('A change to how you can contact us');
    expect(text).toContain('We have considered your appeal and decided to change the arrangements. We have added Monday afternoons, when you are not at work.');
    expect(text).toContain('on Mondays between 2pm and 4pm');
    await eventually(async () => (await h.deps.letters.list('C123', id)).length === 2);
    expect((await h.deps.letters.list('C123', id)).map((l) => [l.kind, l.transition])).toEqual([
      ['notification', 'approve'],
      ['variation', 'appeal:varied'],
    ]);
    expect((await h.mails()).filter((m) => forRestriction(id)(m) && letterKind(m) === 'appeal-outcome')).toHaveLength(0);
  });
});

describe('a letter the transition hook could not queue', () => {
  it('does not fail the request, and the next daily sweep queues it', async () => {
    // A gateway whose queue is a Redis that has hung (it accepts connections and never answers): BullMQ
    // would wait for it for ever.
    const port = await freePort();
    const sockets: Socket[] = [];
    const hung = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => hung.listen(port, '127.0.0.1', resolve));
    const deadConnection = createQueueConnection({ kind: 'single', url: `redis://127.0.0.1:${port}` });
    const deadQueues = createLifecycleQueues(deadConnection);
    const logged: string[] = [];
    const gateway = composeGateway({
      config: h.config,
      logger: createLogger('silent'),
      target: h.target,
      redis: h.connection,
      now: () => new Date('2026-11-25T10:00:00Z'),
      onTransition: lifecycleTransitionHook(deadQueues, { timeoutMs: 200, logger: { error: (message) => logged.push(message) } }),
    });
    try {
      const requested = await request(gateway.app)
        .post('/v1/restrictions')
        .set(bearer(cast.sam))
        .send({ customerId: 'C123', category: 'abusive-contact', summary: 'x', evidence: [{ type: 'note', reference: 'N2' }], authorisedBy: 'mia', noWarningReason: 'Threats made' })
        .expect(201);
      const id = (requested.body as { id: string }).id;
      await request(gateway.app).post(`/v1/restrictions/${id}/decide`).set(bearer(cast.tess)).send({ measures: [{ type: 'written-only', channels: ['letter', 'email'] }], reviewAt: '2027-02-01T10:00:00Z', singlePointOfContact: 'jsmith' }).expect(200);
      await request(gateway.app).post(`/v1/restrictions/${id}/approve`).set(bearer(cast.tom)).send({}).expect(200);
      expect(logged).toEqual(['could not queue the letter of a transition; the daily sweep will']);
      expect(await h.producer.notifications.getJob(`letter.${letterIdFor(id, 3)}`)).toBeUndefined();

      const swept = await runDailySweep(h.deps, new Date('2026-11-25T11:00:00Z'));
      expect(swept.lettersQueued).toEqual([letterIdFor(id, 3)]);
      const mails = await h.waitForMail(forRestriction(id), 2);
      expect(mails.map((m) => m.parsed.headers.get('x-gatekeeper-letter'))).toEqual(['notification', 'notification']);
      expect(flat(mails[0]?.parsed.text ?? '')).toMatch(/Some of your contact with our staff has been abusive|Please print the attached letter/);
      // And only once: the next sweep finds it recorded.
      await eventually(async () => (await h.deps.letters.list('C123', id)).length === 1);
      expect((await runDailySweep(h.deps, new Date('2026-11-25T12:00:00Z'))).lettersQueued).toEqual([]);
    } finally {
      await gateway.close();
      await closeConnection(deadConnection);
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  });
});
