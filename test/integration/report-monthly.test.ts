/**
 * `GET /v1/reports/monthly` and the audit outcomes, over a real redis-server and the real app: the report's
 * figures come from stored restrictions and the breach index, the CSV is proper RFC 4180, and only
 * ts-managers see or audit it.
 */
import { approveRestriction, decideRestriction, liftRestriction, requestRestriction } from '../../rules/lifecycle';
import type { Customer, Measure, Restriction, Staff } from '../../rules/types';
import type { MonthlyReportResponse } from '../../gateway/report-routes';
import { csvField, reportToCsv } from '../../gateway/report-routes';
import { startTestApp, TIME_ZONE, type TestApp } from '../support/test-app';

const NOW = new Date('2025-07-03T09:00:00Z');
const staff = (id: string, roles: Staff['roles']): Staff => ({ id, name: `Name ${id}`, email: `${id}@example.org`, roles });
const alice = staff('alice', ['staff']);
const mike = staff('mike', ['manager']);
const tina = staff('tina', ['tenancy-specialist']);
const tom = staff('tom', ['ts-manager']);
const agent = staff('agent1', ['agent']);
const customer = (id: string): Customer => ({ id, name: `Customer ${id}`, phones: [], emails: [], needs: [] });
const callTimes: Measure = { type: 'call-times', windows: [{ days: ['tue'], start: '10:00', end: '12:00' }] };

/** A restriction walked through the lifecycle: requested, decided an hour later, approved at `approvedAt`. */
function active(id: string, customerId: string, requestedAt: string, approvedAt: string): Restriction {
  const r = requestRestriction(
    { customerId, category: 'excessive-contact', summary: 'calls every hour', evidence: [{ type: 'call-log', reference: 'CL-1' }], authorisedBy: 'mike', noWarningReason: 'n/a' },
    { id, actor: alice, now: new Date(requestedAt), authoriser: mike },
  );
  const decidedAt = new Date(new Date(requestedAt).getTime() + 3600_000);
  const decided = decideRestriction(
    r,
    { measures: [callTimes], reviewAt: new Date(decidedAt.getTime() + 90 * 86_400_000).toISOString(), singlePointOfContact: 'tina' },
    { actor: tina, now: decidedAt, customer: customer(customerId), staff: (sid) => [alice, mike, tina, tom].find((s) => s.id === sid), maxReviewMonths: 6, timeZone: TIME_ZONE },
  );
  return approveRestriction(decided, { actor: tom, now: new Date(approvedAt) });
}

/** Minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

describe('monthly report API', () => {
  let gk: TestApp;
  let tsManager: string;
  let agentToken: string;

  const get = (path: string, token: string | undefined, accept = 'application/json') =>
    fetch(`${gk.url}${path}`, { headers: { Accept: accept, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
  const post = (path: string, token: string, body: unknown) =>
    fetch(`${gk.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  beforeAll(async () => {
    gk = await startTestApp({ now: () => NOW, sampleSize: 2, parts: [] });
    for (const s of [alice, mike, tina]) await gk.store.staff.put(s);
    tsManager = await gk.addStaff(tom);
    agentToken = await gk.addStaff(agent);
    for (const id of ['C1', 'C2', 'C3', 'C4']) await gk.addCustomer(customer(id));

    await gk.store.restrictions.create(active('R1', 'C1', '2025-04-01T09:00:00Z', '2025-04-10T09:00:00Z'));
    await gk.store.restrictions.create(active('R2', 'C2', '2025-06-01T09:00:00Z', '2025-06-03T09:00:00Z'));
    await gk.store.restrictions.create(active('R3', 'C3', '2025-06-10T09:00:00Z', '2025-06-12T09:00:00Z'));
    const lifted = liftRestriction(active('R4', 'C4', '2025-03-01T09:00:00Z', '2025-03-05T09:00:00Z'), { reason: 'improved' }, { actor: tina, now: new Date('2025-06-20T09:00:00Z') });
    await gk.store.restrictions.create(lifted);

    // Breaches: two of R1 in June (one at 00:30 BST on 1 June, which is 31 May in UTC), one in July, one of R2 in June.
    const breach = (id: string, customerId: string, restrictionId: string, receivedAt: string) =>
      gk.store.contacts.record(customerId, { id, channel: 'voice', receivedAt, outcome: 'deflect', reasons: ['outside-call-times'], restrictionId, breach: true });
    await breach('CA1', 'C1', 'R1', '2025-05-31T23:30:00Z');
    await breach('CA2', 'C1', 'R1', '2025-06-15T10:00:00Z');
    await breach('CA3', 'C1', 'R1', '2025-07-01T10:00:00Z');
    await breach('CA4', 'C2', 'R2', '2025-06-20T10:00:00Z');
    await gk.store.contacts.record('C2', { id: 'CA5', channel: 'voice', receivedAt: '2025-06-21T10:00:00Z', outcome: 'proceed', reasons: ['named-contact'], restrictionId: 'R2' });
  });

  afterAll(async () => {
    await gk?.stop();
  });

  it('is for ts-managers only', async () => {
    expect((await get('/v1/reports/monthly?month=2025-06', undefined)).status).toBe(401);
    const refused = await get('/v1/reports/monthly?month=2025-06', agentToken);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden-role');
  });

  it('gives the month’s figures as JSON', async () => {
    const res = await get('/v1/reports/monthly?month=2025-06', tsManager);
    expect(res.status).toBe(200);
    const report = (await res.json()) as MonthlyReportResponse;
    expect(report.month).toBe('2025-06');
    expect(report.complete).toBe(true);
    expect(report.restrictions).toEqual({ active: 3, new: 2, varied: 0, lifted: 1, expired: 0, requested: 2, rejected: 0 });
    expect(report.byCategory['excessive-contact']).toEqual({ active: 3, new: 2 });
    expect(report.byMeasure['call-times']).toBe(3);
    expect(report.breaches).toEqual({ total: 3, restrictions: 2 });
    expect(report.auditSample).toHaveLength(2);
    expect(report.audited).toBe(0);
    expect(report.auditSample.every((c) => ['R1', 'R2', 'R3'].includes(c.restrictionId) && c.audit === null)).toBe(true);
    // The same sample on every run.
    const again = (await (await get('/v1/reports/monthly?month=2025-06', tsManager)).json()) as MonthlyReportResponse;
    expect(again.auditSample).toEqual(report.auditSample);
  });

  it('defaults to the last complete month', async () => {
    const report = (await (await get('/v1/reports/monthly', tsManager)).json()) as MonthlyReportResponse;
    expect(report.month).toBe('2025-06');
  });

  it('refuses a malformed month', async () => {
    const res = await get('/v1/reports/monthly?month=June', tsManager);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid-request');
  });

  it('records a ts-manager’s audit of a sampled case and shows it in the report', async () => {
    const report = (await (await get('/v1/reports/monthly?month=2025-06', tsManager)).json()) as MonthlyReportResponse;
    const sampled = report.auditSample[0]?.restrictionId ?? '';
    const res = await post(`/v1/reports/monthly/2025-06/audits/${sampled}`, tsManager, { outcome: 'action-needed', note: 'Review letter missing, "chase" =today' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ restrictionId: sampled, month: '2025-06', outcome: 'action-needed', note: 'Review letter missing, "chase" =today', by: 'tom', at: NOW.toISOString() });

    const after = (await (await get('/v1/reports/monthly?month=2025-06', tsManager)).json()) as MonthlyReportResponse;
    expect(after.audited).toBe(1);
    expect(after.auditSample.find((c) => c.restrictionId === sampled)?.audit).toEqual({
      outcome: 'action-needed',
      note: 'Review letter missing, "chase" =today',
      by: 'tom',
      at: NOW.toISOString(),
    });
  });

  it('refuses audits of cases outside the sample, bad outcomes, a missing note, and months not yet ended', async () => {
    const report = (await (await get('/v1/reports/monthly?month=2025-06', tsManager)).json()) as MonthlyReportResponse;
    const outside = ['R1', 'R2', 'R3', 'R4'].find((id) => !report.auditSample.some((c) => c.restrictionId === id)) ?? '';
    const sampled = report.auditSample[0]?.restrictionId ?? '';

    const notSampled = await post(`/v1/reports/monthly/2025-06/audits/${outside}`, tsManager, { outcome: 'compliant' });
    expect(notSampled.status).toBe(404);
    expect(((await notSampled.json()) as { error: { code: string } }).error.code).toBe('not-in-sample');

    expect((await post(`/v1/reports/monthly/2025-06/audits/${sampled}`, tsManager, { outcome: 'fine' })).status).toBe(400);
    const noNote = await post(`/v1/reports/monthly/2025-06/audits/${sampled}`, tsManager, { outcome: 'action-needed' });
    expect(noNote.status).toBe(422);
    expect(((await noNote.json()) as { error: { code: string } }).error.code).toBe('no-note');

    const inProgress = await post(`/v1/reports/monthly/2025-07/audits/${sampled}`, tsManager, { outcome: 'compliant' });
    expect(inProgress.status).toBe(409);
    expect((await post(`/v1/reports/monthly/2025-6/audits/${sampled}`, tsManager, { outcome: 'compliant' })).status).toBe(422);
    expect((await post(`/v1/reports/monthly/2025-06/audits/${sampled}`, agentToken, { outcome: 'compliant' })).status).toBe(403);
  });

  it('gives CSV with Accept: text/csv, quoted as RFC 4180 and safe to open in a spreadsheet', async () => {
    const res = await get('/v1/reports/monthly?month=2025-06', tsManager, 'text/csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="gatekeeper-monthly-2025-06.csv"');
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['section', 'item', 'value', 'detail']);
    expect(rows.every((r) => r.length === 4)).toBe(true);
    const value = (section: string, item: string) => rows.find((r) => r[0] === section && r[1] === item)?.[2];
    expect(value('restrictions', 'active')).toBe('3');
    expect(value('restrictions', 'new')).toBe('2');
    expect(value('restrictions', 'lifted')).toBe('1');
    expect(value('breaches', 'total')).toBe('3');
    expect(value('measure', 'call-times')).toBe('3');
    const audited = rows.filter((r) => r[0] === 'audit sample');
    expect(audited).toHaveLength(2);
    const actioned = audited.find((r) => r[2] === 'action-needed');
    expect(actioned?.[3]).toContain('Review letter missing, "chase" =today');
    expect(audited.filter((r) => r[2] === 'pending')).toHaveLength(1);
    // The case list: one row per case, its status at month end, and who, why and what in the detail.
    const cases = rows.filter((r) => r[0] === 'case');
    const json = (await (await get('/v1/reports/monthly?month=2025-06', tsManager)).json()) as MonthlyReportResponse;
    expect(cases.map((r) => [r[1], r[2]])).toEqual(json.cases.map((c) => [c.restrictionId, c.status]));
    const first = json.cases[0];
    expect(cases[0]?.[3]).toContain(`${first?.customerId} | ${first?.category} | ${first?.measures.join(' ')}`);
  });

  it('lists the cases behind the totals, without summaries or evidence', async () => {
    const report = (await (await get('/v1/reports/monthly?month=2025-06', tsManager)).json()) as MonthlyReportResponse;
    expect(report.cases.filter((c) => c.status === 'active').map((c) => c.restrictionId).sort()).toEqual(['R1', 'R2', 'R3']);
    expect(report.cases.reduce((n, c) => n + c.breaches, 0)).toBe(report.breaches.total);
    expect(report.cases.every((c) => c.reviewDueAt === undefined || !Number.isNaN(Date.parse(c.reviewDueAt)))).toBe(true);
    const listed = JSON.stringify(report.cases);
    for (const word of ['summary', 'evidence', 'calls every hour', 'CL-1']) expect(listed).not.toContain(word);
  });
});

describe('reportToCsv', () => {
  it("writes a case's dates as local days, as the month is read", () => {
    const report = {
      month: '2025-07',
      timeZone: 'Europe/London',
      complete: true,
      asOf: '2025-07-31T23:00:00.000Z',
      restrictions: {},
      byCategory: {},
      byMeasure: {},
      reviews: {},
      appeals: {},
      breaches: {},
      auditSample: [],
      cases: [
        {
          restrictionId: 'RV',
          customerId: 'C-RV',
          category: 'other',
          status: 'active',
          measures: ['new-issues-only'],
          // 00:30 BST on 1 July, and midnight BST on 1 October.
          lastReviewAt: '2025-06-30T23:30:00.000Z',
          reviewDueAt: '2025-09-30T23:00:00.000Z',
          reviewOverdue: false,
          appealOpen: false,
          breaches: 0,
          events: ['review:continue'],
        },
      ],
    } as unknown as MonthlyReportResponse;
    const row = reportToCsv(report).split('\r\n').find((line) => line.startsWith('case,'));
    expect(row).toBe('case,RV,active,C-RV | other | new-issues-only | review due 2025-10-01 | last review 2025-07-01 | breaches 0 | in the month: review:continue');
  });
});

describe('csvField', () => {
  it('quotes commas, quotes and line breaks, and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+44 7700')).toBe("'+44 7700");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
  });
});
