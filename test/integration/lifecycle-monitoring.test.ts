/**
 * The breach monitor (threshold within a period → one notice to the tenancy specialist, no action) and the
 * monthly compliance report emailed on the first working day, both driven by the `now` they are given.
 */
import { simpleParser } from 'mailparser';
import request from 'supertest';
import { runBreachMonitor } from '../../workers/breach-monitor';
import { runComplianceCheck } from '../../workers/compliance-scheduler';
import { activeRestriction, bearer, createCast, startLifecycleHarness, type Cast, type LifecycleHarness, type Mail } from './lifecycle-harness';

let h: LifecycleHarness;
let cast: Cast;
let id: string;

beforeAll(async () => {
  h = await startLifecycleHarness();
  cast = await createCast(h);
  await request(h.gateway.app).put('/v1/customers/C5').set(bearer(cast.tess)).send({ name: 'Lee Five', phones: ['07700 900005'], emails: [], needs: [] }).expect(201);
  id = await activeRestriction(h, cast, { customerId: 'C5', reviewAt: '2027-03-01T10:00:00Z' });
  await h.waitForMail((m) => m.parsed.headers.get('x-gatekeeper-letter') === 'notification');
});

afterAll(async () => {
  await h.close();
});

const notice = (kind: string) => (m: Mail) => m.parsed.headers.get('x-gatekeeper-notice') === kind;

/** Records a call from the customer on `iso`, breaching the restriction or not. */
async function call(n: number, iso: string, breach: boolean): Promise<void> {
  await h.gateway.store.contacts.record('C5', {
    id: `CA${n}`,
    channel: 'voice',
    receivedAt: iso,
    from: '+447700900005',
    outcome: breach ? 'deflect' : 'proceed',
    reasons: breach ? ['outside-call-times'] : ['named-contact'],
    restrictionId: id,
    ...(breach ? { breach: true } : {}),
  });
}

describe('the breach monitor', () => {
  it('stays quiet below the threshold, counting only breaches within the period', async () => {
    await call(1, '2026-10-20T14:00:00Z', true); // more than 30 days before the check
    for (let n = 2; n <= 5; n++) await call(n, `2026-12-0${n}T14:00:00Z`, true);
    for (let n = 6; n <= 8; n++) await call(n, `2026-12-0${n}T10:30:00Z`, false);
    expect(await runBreachMonitor(h.deps, new Date('2026-12-09T12:00:00Z'))).toEqual([]);
  });

  it('tells the tenancy specialist once the threshold is reached, with a suggestion and no action', async () => {
    await call(9, '2026-12-09T15:00:00Z', true);
    expect(await runBreachMonitor(h.deps, new Date('2026-12-09T16:05:00Z'))).toEqual([{ restrictionId: id, breaches: 5, queued: true }]);
    const [mail] = await h.waitForMail(notice('breach-threshold'));
    expect(mail?.rcptTo).toEqual(['tess@staff.landlord.example']);
    expect(mail?.parsed.subject).toBe(`Repeated breaches: restriction ${id} (C5), 5 in 30 days`);
    const text = mail?.parsed.text ?? '';
    expect(text).toContain(`Lee Five (C5) has breached the restriction ${id} 5 times since Monday 9 November 2026`);
    expect(text).toContain('Legal Services');
    expect(text).toContain('ASB or tenancy-breach case');
    expect(text).toContain('Gatekeeper has taken no action');
    // No automatic action: the restriction is as it was.
    const r = await h.gateway.store.restrictions.get(id);
    expect(r?.status).toBe('active');
    expect(r?.history.at(-1)?.action).toBe('approve');
  });

  it('does not repeat the notice within the period, however many more breaches come', async () => {
    await call(10, '2026-12-10T15:00:00Z', true);
    expect(await runBreachMonitor(h.deps, new Date('2026-12-09T17:05:00Z'))).toEqual([{ restrictionId: id, breaches: 5, queued: false }]);
    expect(await runBreachMonitor(h.deps, new Date('2026-12-10T16:05:00Z'))).toEqual([{ restrictionId: id, breaches: 6, queued: false }]);
    expect((await h.mails()).filter(notice('breach-threshold'))).toHaveLength(1);
    // The marker that keeps it quiet lasts the period: 30 days.
    const ttl = await h.connection.ttl(`gk:lifecycle:notice:breach-threshold.${id}`);
    expect(ttl).toBeGreaterThan(30 * 86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(30 * 86_400);
  });
});

describe('the monthly compliance report', () => {
  it('is not sent before the first working day of the month', async () => {
    // 1 January 2027 is a bank holiday, then a weekend: the first working day is Monday 4 January.
    for (const iso of ['2027-01-01T07:00:00Z', '2027-01-02T07:00:00Z', '2027-01-03T07:00:00Z']) {
      expect(await runComplianceCheck(h.deps, new Date(iso))).toEqual({ due: false, queued: false });
    }
  });

  it('emails the previous month to every ts-manager on the first working day: HTML body, CSV attached', async () => {
    h.setNow('2027-01-04T07:00:00Z');
    expect(await runComplianceCheck(h.deps, new Date('2027-01-04T07:00:00Z'))).toEqual({ due: true, month: '2026-12', queued: true });
    const [mail] = await h.waitForMail(notice('monthly-report'));
    expect([...(mail?.rcptTo ?? [])].sort()).toEqual(['tara@staff.landlord.example', 'tom@staff.landlord.example']);
    expect(mail?.parsed.subject).toBe('Restricted access compliance report: December 2026');
    expect(mail?.parsed.html).toContain('<h1 style="font-size:1.3em">Restricted access: compliance report for December 2026</h1>');
    expect(mail?.parsed.html).toMatch(/<th scope="row"[^>]*>Active<\/th><td[^>]*>1<\/td>/);
    expect(mail?.parsed.text).toContain('Contacts that breached a restriction: 6');

    const csv = mail?.parsed.attachments.find((a) => a.filename === 'gatekeeper-monthly-2026-12.csv');
    expect(csv?.contentType).toBe('text/csv');
    const body = csv?.content.toString('utf8') ?? '';
    // The same CSV as GET /v1/reports/monthly?month=2026-12 with Accept: text/csv.
    expect(body).toBe((await h.monthlyReport('2026-12')).csv);
    expect(body.split('\r\n')[0]).toBe('section,item,value,detail');
    expect(body).toContain('\r\nrestrictions,active,1,\r\n');
    // Six breaches in December (one in October is not counted).
    expect(body).toContain('\r\nbreaches,total,6,\r\n');
    expect(body).toContain(`\r\naudit sample,${id},pending,`);
  });

  it('is sent once a month', async () => {
    expect(await runComplianceCheck(h.deps, new Date('2027-01-04T08:00:00Z'))).toEqual({ due: true, month: '2026-12', queued: false });
    expect(await runComplianceCheck(h.deps, new Date('2027-01-05T07:00:00Z'))).toEqual({ due: true, month: '2026-12', queued: false });
    const reports = (await h.mails()).filter(notice('monthly-report'));
    expect(reports).toHaveLength(1);
    // Sanity: the raw message really is multipart with the attachment (not only what the parser made of it).
    const raw = h.smtp.messages.find((m) => m.raw.includes('X-Gatekeeper-Notice: monthly-report'));
    expect((await simpleParser(raw?.raw ?? Buffer.alloc(0))).attachments).toHaveLength(1);
  });
});
