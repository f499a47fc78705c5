/**
 * The agent console in a real headless Chromium against the whole gateway (real Redis, real store, real
 * Twilio-signed webhooks): an agent signs in with the keyboard, a restricted caller rings, the screen-pop
 * with that caller's flags appears and is announced, a hostile customer name stays inert text, every control
 * is reachable with Tab and shows its focus, colours meet AA, the page fits 320 px, and a dropped event
 * stream comes back by itself.
 */
import twilio from 'twilio';
import type { Decision, Restriction } from '../../rules/types';
import {
  contrastFailures,
  launchBrowser,
  openPage,
  screenshot,
  scrollsSideways,
  signIn,
  tabThroughPage,
  waitForLive,
  type ConsolePage,
} from '../support/browser';
import { startTestApp, TWILIO_AUTH_TOKEN, type TestApp } from '../support/test-app';
import type { Browser } from 'playwright-core';

/** Tuesday 25 November 2025, 09:00 in London: before the 10:00–12:00 call window opens. */
const NOW = new Date('2025-11-25T09:00:00Z');
const XSS_NAME = '<img src=x onerror=alert(1)>';
const XSS_PHONE = '07700 900123';
const NAMED_PHONE = '+44 7700 900456';

function restriction(id: string, customerId: string, measures: Restriction['measures']): Restriction {
  return {
    id,
    customerId,
    status: 'active',
    category: 'excessive-contact',
    summary: 'SECRET-SUMMARY never shown to agents',
    evidence: [{ type: 'call-log', reference: 'SECRET-EVIDENCE-REF' }],
    authorisedBy: 'mgr',
    warnings: [{ type: 'formal', date: '2025-09-01' }],
    requestedBy: 'sam',
    requestedAt: '2025-10-01T09:00:00.000Z',
    decidedBy: 'jsmith',
    decidedAt: '2025-10-02T09:00:00.000Z',
    approvedBy: 'tara',
    approvedAt: '2025-10-03T09:00:00.000Z',
    measures,
    startsAt: '2025-10-03T09:00:00.000Z',
    reviewAt: '2026-01-15T09:00:00.000Z',
    singlePointOfContact: 'jsmith',
    adjustments: [],
    exceptions: [],
    appealed: false,
    reviews: [],
    history: [{ action: 'approve', from: 'pending-approval', to: 'active', by: 'tara', at: '2025-10-03T09:00:00.000Z' }],
  };
}

let callCounter = 0;
/** A Twilio-signed POST /voice/incoming, as Twilio sends it when the caller rings. */
async function ring(gk: TestApp, from: string): Promise<{ callSid: string; twiml: string }> {
  callCounter += 1;
  const callSid = `CA${String(callCounter).padStart(32, '0')}`;
  const params = { CallSid: callSid, From: from, To: '+441632960001', CallStatus: 'ringing', Direction: 'inbound' };
  const url = `${gk.url}/voice/incoming`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  expect(res.status).toBe(200);
  return { callSid, twiml: await res.text() };
}

describe('agent console (Chromium)', () => {
  let gk: TestApp;
  let browser: Browser;
  let agentToken: string;
  let jsmithToken: string;
  let agent: ConsolePage;

  /** What the gate decides for a call from `from` now (the same rules the webhook ran). */
  const decisionFor = async (from: string): Promise<Decision> => {
    const res = await fetch(`${gk.url}/v1/decisions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${agentToken}` },
      body: JSON.stringify({ channel: 'voice', from }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Decision;
  };

  beforeAll(async () => {
    [gk, browser] = await Promise.all([startTestApp({ now: () => NOW }), launchBrowser()]);
    agentToken = await gk.addStaff({ id: 'akhan', name: 'Ali Khan', email: 'ali@example.org', roles: ['agent'] });
    jsmithToken = await gk.addStaff({ id: 'jsmith', name: 'Jo Smith', email: 'jo@example.org', roles: ['tenancy-specialist'] });
    await gk.addCustomer({ id: 'C-XSS', name: XSS_NAME, phones: [XSS_PHONE], emails: ['xss@example.org'], needs: ['hearing-impairment'] });
    await gk.addCustomer({ id: 'C-NAMED', name: 'Nia Jones', phones: [NAMED_PHONE], emails: [], needs: [] });
    await gk.store.restrictions.create(
      restriction('R-CALLS', 'C-XSS', [
        { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }] },
        { type: 'word-limit', maxWords: 500 },
        { type: 'response-frequency', every: 'P7D', weekday: 'fri' },
      ]),
    );
    await gk.store.restrictions.create(restriction('R-NAMED', 'C-NAMED', [{ type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' }]));

    agent = await openPage(browser);
    await signIn(agent.page, gk.url, agentToken);
    await waitForLive(agent.page);
  });

  afterAll(async () => {
    await browser?.close();
    await gk?.stop();
  });

  afterEach(() => {
    // Nothing the page did may have opened a dialog, broken the CSP, or thrown.
    expect(agent.dialogs).toEqual([]);
    expect(agent.cspViolations).toEqual([]);
    expect(agent.pageErrors).toEqual([]);
  });

  it('keeps the token out of the URL and in this tab’s session storage only', async () => {
    const { page } = agent;
    expect(page.url()).not.toContain(agentToken);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(agentToken);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await page.locator('#whoami').textContent()).toBe('Signed in as Ali Khan (agent)');
    await screenshot(page, 'console-agent-signed-in');
  });

  it('pops up a restricted caller with their flags, announced to screen readers, with the name as plain text', async () => {
    const { page } = agent;
    const expected = await decisionFor(XSS_PHONE);
    expect(expected.outcome).toBe('deflect');
    expect(expected.agentFlags[0]).toMatch(/^Calls Tue & Thu 10:00–12:00 only/);

    const { callSid, twiml } = await ring(gk, '+447700900123');
    expect(twiml).toContain('<Gather');

    const pop = page.locator(`#pop-list li[data-contact-id="${callSid}"]`);
    await pop.waitFor({ timeout: 5000 });
    // The name arrives with the customer lookup; until then the pop names the customer id.
    await pop.locator('.pop__title', { hasText: XSS_NAME }).waitFor();
    expect(await pop.locator('.pop__title').textContent()).toBe(`Call from ${XSS_NAME}`);
    expect(await pop.locator('.flags li').allTextContents()).toEqual(expected.agentFlags);
    expect(await pop.textContent()).toContain('Outside the agreed call times');
    // Inert: shown as text, no element made of it, no dialog.
    expect(await page.locator('#pop-list img').count()).toBe(0);

    const announcer = page.locator('#pop-announcer');
    expect(await announcer.getAttribute('aria-live')).toBe('assertive');
    await page.waitForFunction(() => (document.getElementById('pop-announcer')?.textContent ?? '').includes('Calls Tue & Thu'));
    const announced = (await announcer.textContent()) ?? '';
    expect(announced).toContain(XSS_NAME);
    expect(announced).toContain('Restricted customer');
    await screenshot(page, 'console-agent-screen-pop');
  });

  it('opens the customer card from the pop with the keyboard: flags and terms, never the reason or evidence', async () => {
    const { page } = agent;
    await page.locator('#pop-list li').first().getByRole('link', { name: 'Open customer record' }).focus();
    await page.keyboard.press('Enter');
    const card = page.locator('#customer-card');
    await card.waitFor();
    expect(await page.locator('#card-heading').textContent()).toBe(XSS_NAME);
    expect(await page.locator('#view-heading').textContent()).toBe(XSS_NAME);
    expect(await page.title()).toBe(`${XSS_NAME} — Gatekeeper console`);
    expect(await page.locator('#view img').count()).toBe(0);

    const flags = await page.locator('#card-flags li').allTextContents();
    expect(flags[0]).toBe('Calls Tue & Thu 10:00–12:00 only');
    expect(flags).toEqual(expect.arrayContaining(['No calls on bank holidays', 'Next call window: Tue 25 Nov 10:00']));
    expect(flags).toContain('Word limit: 500 words per letter or email; only the first 500 are actioned');
    expect(await page.locator('#emergency-rule').textContent()).toBe('Emergencies are always put through, whatever the restriction');
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('Restricted');
    expect(text).toContain('Has a hearing impairment');
    expect(text).toContain('Single point of contact');
    expect(text).toContain('Jo Smith');
    expect(text).toContain('Written onlyNo');
    expect(text).toContain('500 words per letter or email');
    expect(text).toContain('Weekly on Fridays — next: Fri, 28 November 2025');
    expect(text).toContain('Review date');
    expect(text).toMatch(/15 January 2026/);
    const page_ = (await page.locator('body').textContent()) ?? '';
    expect(page_).not.toContain('SECRET-SUMMARY');
    expect(page_).not.toContain('SECRET-EVIDENCE-REF');
    await screenshot(page, 'console-agent-customer-card');
  });

  it('finds a customer by phone in another UK format, by the keyboard alone', async () => {
    const { page } = agent;
    await page.locator('#nav-list a', { hasText: 'Find a customer' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#search-q').waitFor();
    await page.locator('#search-q').focus();
    await page.keyboard.type('+44 (0)7700-900123');
    await page.keyboard.press('Enter');
    const result = page.locator('#search-results a', { hasText: XSS_NAME });
    await result.waitFor();
    expect(await page.locator('#search-results img').count()).toBe(0);
    await result.focus();
    await page.keyboard.press('Enter');
    await page.locator('#customer-card').waitFor();
  });

  it('reaches every control with Tab, each with a visible focus indicator', async () => {
    const { page } = agent;
    const report = await tabThroughPage(page);
    expect(report.controls).toBeGreaterThan(5);
    expect(report.unreached).toEqual([]);
    expect(report.noVisibleFocus).toEqual([]);
  });

  it('meets WCAG AA colour contrast', async () => {
    expect(await contrastFailures(agent.page)).toEqual([]);
  });

  it('fits a 320 px wide screen without sideways scrolling', async () => {
    const narrow = await openPage(browser, { width: 320, height: 720 });
    try {
      await signIn(narrow.page, gk.url, agentToken);
      await narrow.page.goto(`${gk.url}/console#/customer/C-XSS`);
      await narrow.page.locator('#customer-card').waitFor();
      expect(await scrollsSideways(narrow.page)).toBe(false);
      await screenshot(narrow.page, 'console-agent-320px');
      expect(narrow.dialogs).toEqual([]);
      expect(narrow.cspViolations).toEqual([]);
    } finally {
      await narrow.context.close();
    }
  });

  it('sends a named-contact call only to the named contact’s console', async () => {
    const named = await openPage(browser);
    try {
      await signIn(named.page, gk.url, jsmithToken);
      await waitForLive(named.page);
      const routed = await ring(gk, NAMED_PHONE);
      const pop = named.page.locator(`#pop-list li[data-contact-id="${routed.callSid}"]`);
      await pop.waitFor({ timeout: 5000 });
      expect(await pop.locator('.flags li').first().textContent()).toBe('Named contact: Jo Smith');
      expect(await pop.locator('.flags li').allTextContents()).toContain('Deputy for Jo Smith: Ali Khan');
      await screenshot(named.page, 'console-named-contact-pop');

      // A pop for everyone after it: once it has reached the agent, the routed one would have too.
      const everyone = await ring(gk, '+447700900123');
      await agent.page.locator(`#pop-list li[data-contact-id="${everyone.callSid}"]`).waitFor({ timeout: 5000 });
      expect(await agent.page.locator(`#pop-list li[data-contact-id="${routed.callSid}"]`).count()).toBe(0);
    } finally {
      await named.context.close();
    }
  });

  it('reconnects after the event stream drops, and pops arrive again', async () => {
    const { page } = agent;
    gk.events.hub.endStreams();
    await page.locator('#stream-status[data-state="reconnecting"]').waitFor();
    await waitForLive(page);
    const { callSid } = await ring(gk, '+447700900123');
    await page.locator(`#pop-list li[data-contact-id="${callSid}"]`).waitFor({ timeout: 5000 });
    await screenshot(page, 'console-agent-reconnected');
  });

  it('signs out: the token is forgotten and the stream closed', async () => {
    const { page } = agent;
    await page.locator('#sign-out').focus();
    await page.keyboard.press('Enter');
    await page.locator('#signin-token:focus').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.locator('#pops').isHidden()).toBe(true);
  });
});
