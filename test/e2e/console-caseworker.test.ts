/**
 * The caseworkers' screens in a real headless Chromium against the whole gateway: a member of staff raises a
 * request, a tenancy specialist decides the measures (the form catches `no-usable-channel` and a late review
 * date before anything is sent, and explains the first in terms of the customer's needs), a ts-manager
 * approves, and the monthly report draws the month's figures.
 */
import { DateTime } from 'luxon';
import type { Browser, Page } from 'playwright-core';
import {
  contrastFailures,
  launchBrowser,
  openPage,
  screenshot,
  scrollsSideways,
  signIn,
  tabThroughPage,
  type ConsolePage,
} from '../support/browser';
import { simpleParser } from 'mailparser';
import { extractPdfText } from '../../channels/letters/pdf-text';
import { startCaptureSmtp, type CaptureSmtp } from '../fixtures/mail/capture-smtp';
import { PRINT_MAILBOX, startTestApp, TIME_ZONE, type TestApp } from '../support/test-app';

const today = () => DateTime.now().setZone(TIME_ZONE);
const localDate = (d: DateTime) => d.toISODate() ?? '';

describe('caseworker screens (Chromium)', () => {
  let gk: TestApp;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  const pages: ConsolePage[] = [];
  /** The latest page each person signed in on. */
  const pageOf: Record<string, Page> = {};
  let restrictionId = '';
  let smtp: CaptureSmtp;

  const as = async (who: string): Promise<Page> => {
    const opened = await openPage(browser);
    pages.push(opened);
    await signIn(opened.page, gk.url, tokens[who] ?? '');
    pageOf[who] = opened.page;
    return opened.page;
  };

  beforeAll(async () => {
    smtp = await startCaptureSmtp();
    [gk, browser] = await Promise.all([startTestApp({ smtpRelayUrl: smtp.url }), launchBrowser()]);
    tokens.sam = await gk.addStaff({ id: 'sam', name: 'Sam Patel', email: 'sam@example.org', roles: ['staff'] });
    tokens.mgr = await gk.addStaff({ id: 'mgr', name: 'Mo Green', email: 'mo@example.org', roles: ['manager'] });
    tokens.jsmith = await gk.addStaff({ id: 'jsmith', name: 'Jo Smith', email: 'jo@example.org', roles: ['tenancy-specialist'] });
    tokens.tara = await gk.addStaff({ id: 'tara', name: 'Tara Singh', email: 'tara@example.org', roles: ['ts-manager'] });
    tokens.tom = await gk.addStaff({ id: 'tom', name: 'Tom Reid', email: 'tom@example.org', roles: ['ts-manager'] });
    await gk.addCustomer({ id: 'C-CW', name: 'Cath Walker', phones: ['020 7946 0001'], emails: ['cath@example.org'], needs: ['cannot-write'] });
  });

  afterEach(() => {
    for (const p of pages) {
      expect(p.dialogs).toEqual([]);
      expect(p.cspViolations).toEqual([]);
      expect(p.pageErrors).toEqual([]);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await gk?.stop();
    await smtp?.close();
  });

  it('a member of staff raises a request, with its evidence and their manager’s authorisation', async () => {
    const page = await as('sam');
    await page.goto(`${gk.url}/console#/customer/C-CW`);
    await page.getByRole('link', { name: 'Raise a restriction request' }).click();
    await page.locator('#request-form').waitFor();
    expect(await page.locator('#req-customer').inputValue()).toBe('C-CW');

    // Sending it empty lists every problem, each linked to its field.
    await page.locator('#req-customer').fill('');
    await page.getByRole('button', { name: 'Send request' }).click();
    const summary = page.locator('#request-errors');
    await summary.waitFor();
    expect(await summary.locator('li').allTextContents()).toEqual([
      'Enter the customer ID',
      'Choose the category of behaviour',
      'Describe what happened',
      'Give at least one piece of evidence',
      'Enter the staff ID of the manager who authorised this',
      'Enter the date of the warning',
    ]);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('request-errors');
    await screenshot(page, 'console-request-errors');

    await page.locator('#req-customer').fill('C-CW');
    await page.locator('#req-category').selectOption('excessive-contact');
    await page.locator('#req-summary').fill('Calls the contact centre thirty times a day about the same repair.');
    await page.locator('#ev-0-ref').fill('CALL-LOG-2025-11');
    await page.locator('#req-manager').fill('mgr');
    await page.locator('#req-warning-date').fill(localDate(today().minus({ weeks: 3 })));
    const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/v1/restrictions');
    await page.getByRole('button', { name: 'Send request' }).click();
    // Sent with an Idempotency-Key, so sending it again after a lost answer cannot raise a second request.
    expect((await posted).headers()['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);
    const created = page.locator('#request-created');
    await created.waitFor();
    const text = (await created.textContent()) ?? '';
    restrictionId = /Request (R\S+) recorded/.exec(text)?.[1] ?? '';
    expect(restrictionId).toMatch(/^R/);
    await screenshot(page, 'console-request-sent');
  });

  it('a tenancy specialist is told, before submitting, why the measures would not do', async () => {
    const page = await as('jsmith');
    await page.goto(`${gk.url}/console#/cases`);
    const waiting = page.locator('section[aria-labelledby="requested-heading"]');
    await waiting.getByRole('link', { name: restrictionId }).click();
    await page.locator('#decide-form').waitFor();
    expect(await page.locator('#restriction-status').textContent()).toBe('Requested — waiting for a decision');

    // Written only, for a customer who cannot write: no channel left. And a review too far away.
    await page.locator('#decide-types-3').check();
    await page.locator('#decide-review').fill(localDate(today().plus({ months: 7 })));
    await page.getByRole('button', { name: 'Send for approval' }).click();
    const summary = page.locator('#decide-errors');
    await summary.waitFor();
    const messages = await summary.locator('li').allTextContents();
    expect(messages).toHaveLength(2);
    expect(messages[0]).toBe('The review date must be within 6 months of the start');
    expect(messages[1]).toBe(
      'These measures leave Cath Walker no way to contact us. They keep email and letters open, but Cath Walker cannot write, which rules out email and letters. ' +
        'Written only already removes calls and visits. Keep another channel open, or record a reasonable adjustment for one of these needs below.',
    );
    // The same messages sit by their fields, which are marked invalid.
    expect(await page.locator('#decide-review').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#decide-types-error').textContent()).toContain('cannot write');
    // Nothing was sent: the request is still waiting.
    expect((await gk.store.restrictions.get(restrictionId))?.status).toBe('requested');
    await screenshot(page, 'console-decide-no-usable-channel');
  });

  it('reaches every control of the decision form with Tab, with visible focus and AA contrast', async () => {
    const page = pageOf.jsmith as Page;
    const report = await tabThroughPage(page);
    expect(report.controls).toBeGreaterThan(15);
    expect(report.unreached).toEqual([]);
    expect(report.noVisibleFocus).toEqual([]);
    expect(await contrastFailures(page)).toEqual([]);
  });

  it('a tenancy specialist decides workable measures and sends them for approval', async () => {
    const page = pageOf.jsmith as Page;
    await page.locator('#decide-types-3').uncheck();
    await page.locator('#decide-types-0').check();
    await page.locator('#decide-w0-days-1').check();
    await page.locator('#decide-w0-days-3').check();
    await page.locator('#decide-w0-start').fill('10:00');
    await page.locator('#decide-w0-end').fill('12:00');
    await page.locator('#decide-types-1').check();
    await page.locator('#decide-nc-staff').fill('jsmith');
    await page.locator('#decide-review').fill(localDate(today().plus({ months: 3 })));
    await page.locator('#decide-note').fill('Two morning windows keep a phone line open with Jo');
    await page.getByRole('button', { name: 'Send for approval' }).click();
    await page.locator('#restriction-status', { hasText: 'Decided — waiting for approval' }).waitFor();
    expect((await gk.store.restrictions.get(restrictionId))?.status).toBe('pending-approval');
    // Every transition records why (DESIGN.md §2): the decider's reasons are in the history.
    await page.getByRole('table', { name: 'Every step, oldest first' }).getByRole('cell', { name: 'Two morning windows keep a phone line open with Jo' }).waitFor();
    await screenshot(page, 'console-decided');
  });

  it('a ts-manager approves it, and the customer card shows the new flags', async () => {
    const page = await as('tara');
    await page.goto(`${gk.url}/console#/cases`);
    await page.locator('section[aria-labelledby="pending-heading"]').getByRole('link', { name: restrictionId }).click();
    await page.locator('#approve-form').waitFor();
    await page.locator('#approve-note').fill('Approved after checking the policy and the evidence');
    await page.getByRole('button', { name: 'Approve restriction' }).click();
    await page.locator('#restriction-status', { hasText: 'Active' }).waitFor();
    expect((await gk.store.restrictions.get(restrictionId))?.status).toBe('active');
    expect((await gk.store.restrictions.get(restrictionId))?.history.at(-1)).toMatchObject({ action: 'approve', by: 'tara', note: 'Approved after checking the policy and the evidence' });
    await page.getByRole('table', { name: 'Every step, oldest first' }).getByRole('cell', { name: 'Approved after checking the policy and the evidence' }).waitFor();
    await screenshot(page, 'console-approved');

    // The approval sends the customer's notification: a printable letter to the print mailbox (Cath cannot
    // write, so no email), with every part the policy requires.
    const [letter] = await smtp.waitFor(1, 20_000);
    expect(letter?.rcptTo).toEqual([PRINT_MAILBOX]);
    const parsed = await simpleParser(letter?.raw ?? Buffer.alloc(0));
    const pdf = parsed.attachments.find((a) => a.contentType === 'application/pdf');
    expect(pdf).toBeDefined();
    const { text } = await extractPdfText(pdf?.content ?? Buffer.alloc(0), { maxPages: 10, timeoutMs: 20_000 });
    for (const part of ['Cath Walker', 'Jo Smith', 'Tuesdays and Thursdays', 'appeal', 'Housing Ombudsman', '1632 960999', 'privacy', restrictionId]) {
      expect(text).toContain(part);
    }
    expect(text).toMatch(/review this decision by \w+day \d{1,2} \w+ \d{4}/);
    expect(text).toMatch(/so that we receive it by \w+day \d{1,2} \w+ \d{4}/);

    await page.getByRole('link', { name: 'Cath Walker (C-CW)' }).click();
    await page.locator('#customer-card').waitFor();
    const flags = await page.locator('#card-flags li').allTextContents();
    expect(flags[0]).toBe('Calls Tue & Thu 10:00–12:00 only');
    expect(flags[1]).toBe('Named contact: Jo Smith');
    // Caseworkers also see the case list and the contact history with its breach count.
    expect(await page.locator('#breach-count').textContent()).toBe('Breaches: 0 in the last 0 contacts');
    await screenshot(page, 'console-caseworker-customer');
  });

  it('the contact history says how each call ended: who answered and for how long, or a voicemail', async () => {
    // Recorded as the voice webhooks record them: the decision, then Twilio's callbacks merged into `details`.
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    const call = { channel: 'voice' as const, outcome: 'proceed' as const, reasons: ['named-contact' as const], restrictionId, routeTo: 'jsmith', breach: false, status: 'completed' };
    await gk.store.contacts.record('C-CW', {
      ...call,
      id: 'CA-ANSWERED',
      receivedAt: ago(120),
      details: { dialStatus: 'completed', talkSeconds: 192, answeredBy: 'jsmith', callStatus: 'completed', durationSeconds: 200 },
    });
    await gk.store.contacts.record('C-CW', {
      ...call,
      id: 'CA-VOICEMAIL',
      receivedAt: ago(60),
      details: { voicemailFor: 'jsmith', recordingSid: 'RE0123', recordingSeconds: 17, callStatus: 'completed', durationSeconds: 65 },
    });
    await gk.store.contacts.record('C-CW', { id: 'M-CW-1', channel: 'email', receivedAt: ago(30), outcome: 'proceed', reasons: ['named-contact'], routeTo: 'jsmith', breach: false });

    const page = await as('jsmith');
    await page.goto(`${gk.url}/console#/customer/C-CW`);
    const history = page.getByRole('table', { name: 'Contacts, newest first' });
    await history.waitFor();
    expect(await page.locator('#breach-count').textContent()).toBe('Breaches: 0 in the last 3 contacts');
    expect(await history.locator('thead th').allTextContents()).toEqual(['When', 'Channel', 'Outcome', 'Reasons', 'Breach', 'Call outcome']);
    const rows = await history.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[1]?.textContent, tr.children[5]?.textContent]));
    expect(rows).toEqual([
      ['Email', ''],
      ['Call', 'Voicemail for Jo Smith · 17 s'],
      ['Call', 'Answered by Jo Smith · 3 min 12 s'],
    ]);
    expect(await contrastFailures(page)).toEqual([]);
    await screenshot(page, 'console-contact-history-call-outcomes');
  });

  it('a tenancy specialist records a review and an appeal; the appeal outcome needs a ts-manager not involved before', async () => {
    const specialist = await as('jsmith');
    await specialist.goto(`${gk.url}/console#/restriction/${restrictionId}`);
    await specialist.locator('#review-form').waitFor();
    await specialist.locator('#review-note').fill('Calls have reduced but continue daily.');
    await specialist.locator('#review-next').fill(localDate(today().plus({ months: 2 })));
    await specialist.getByRole('button', { name: 'Record review' }).click();
    await specialist.locator('.notice', { hasText: 'Review recorded.' }).waitFor();

    await specialist.locator('#appeal-grounds').fill('The customer says the call times clash with work.');
    await specialist.getByRole('button', { name: 'Record appeal' }).click();
    await specialist.locator('.notice', { hasText: 'Appeal recorded.' }).waitFor();
    const stored = await gk.store.restrictions.get(restrictionId);
    expect(stored?.reviews).toHaveLength(1);
    expect(stored?.appeal?.grounds).toBe('The customer says the call times clash with work.');

    // Tara approved the restriction, so the API refuses her as the appeal's decider; the page says why.
    const approver = pageOf.tara as Page;
    await approver.goto(`${gk.url}/console#/restriction/${restrictionId}`);
    await approver.locator('#appeal-outcome-form').waitFor();
    await approver.locator('#appeal-note').fill('Proportionate to the behaviour.');
    await approver.getByRole('button', { name: 'Record outcome' }).click();
    await approver.locator('#appeal-outcome-errors li', { hasText: 'separation-of-duties' }).waitFor();

    const other = await as('tom');
    await other.goto(`${gk.url}/console#/restriction/${restrictionId}`);
    await other.locator('#appeal-note').fill('Proportionate to the behaviour.');
    await other.getByRole('button', { name: 'Record outcome' }).click();
    await other.locator('.notice', { hasText: 'Appeal outcome recorded.' }).waitFor();
    expect((await gk.store.restrictions.get(restrictionId))?.appeal?.outcome).toBe('dismissed');
    await screenshot(other, 'console-appeal-decided');
  });

  it('the monthly report page draws this month’s figures as a chart, at 320 px too', async () => {
    const page = await as('tara');
    await page.getByRole('link', { name: 'Monthly report' }).click();
    await page.locator('#report-chart').waitFor();
    await page.locator('#report-month').fill(today().toFormat('yyyy-MM'));
    await page.getByRole('button', { name: 'Show report' }).click();
    await page.locator('#report-heading', { hasText: today().toFormat('yyyy-MM') }).waitFor();
    const chart = page.locator('#report-chart');
    expect(await chart.getAttribute('role')).toBe('img');
    expect(await chart.locator('rect').count()).toBe(5);
    expect(await chart.locator('desc').textContent()).toContain('Active at month end: 1, New: 1');
    const newRow = page.locator('table', { has: page.locator('caption', { hasText: /^Restrictions$/ }) }).locator('tr', { hasText: 'New (approved)' });
    expect(await newRow.locator('td').textContent()).toBe('1');
    expect(await page.locator('#sample-heading').textContent()).toBe('Audit sample (0 of 1 audited)');
    // The case behind the figures: in force, why (the category, never the summary), what was done this month.
    const cases = page.locator('#report-cases tbody tr');
    expect(await cases.count()).toBeGreaterThanOrEqual(1);
    const activeCase = cases.filter({ hasText: 'C-CW' }).first();
    const row = await activeCase.innerText();
    for (const shown of ['Active', 'Excessive contact', 'Call times', 'Approved']) expect(row).toContain(shown);
    expect(await page.locator('#cases-heading').textContent()).toMatch(/^Cases \(\d+\)$/);
    expect(await contrastFailures(page)).toEqual([]);
    await screenshot(page, 'console-monthly-report');

    await page.setViewportSize({ width: 320, height: 720 });
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, 'console-monthly-report-320px');

    // A month that has ended: no "still in progress" notice, and nothing in its place (it once read "null").
    const lastMonth = today().minus({ months: 1 }).toFormat('yyyy-MM');
    await page.locator('#report-month').fill(lastMonth);
    await page.getByRole('button', { name: 'Show report' }).click();
    await page.locator('#report-heading', { hasText: lastMonth }).waitFor();
    const shown = await page.locator('#report-results').innerText();
    expect(shown).not.toContain('still in progress');
    expect(shown).not.toMatch(/\bnull\b/);
  });
});
