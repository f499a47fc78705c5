/**
 * The monthly compliance report over a seeded month (June 2025, Europe/London, BST): every restriction is
 * walked through the real lifecycle functions, so the history it reads is the history the API writes.
 */
import fc from 'fast-check';
import {
  approveRestriction,
  decideAppeal,
  decideRestriction,
  expireIfDue,
  liftRestriction,
  recordAppeal,
  rejectRestriction,
  requestRestriction,
  reviewRestriction,
  varyRestriction,
  type DecideInput,
} from '../../rules/lifecycle';
import { monthlyReport, monthPeriod, seededSample, type ReportContact } from '../../rules/monthly-report';
import type { Category, Customer, Measure, Restriction, Staff } from '../../rules/types';

const ZONE = 'Europe/London';
const staff = (id: string, roles: Staff['roles']): Staff => ({ id, name: id, email: `${id}@example.org`, roles });
const alice = staff('alice', ['staff']);
const mike = staff('mike', ['manager']);
const tina = staff('tina', ['tenancy-specialist']);
const tom = staff('tom', ['ts-manager']);
const tara = staff('tara', ['ts-manager']);
const directory = new Map([alice, mike, tina, tom, tara].map((s) => [s.id, s]));
const customer = (id: string): Customer => ({ id, name: `Customer ${id}`, phones: [], emails: [], needs: [] });

const at = (iso: string): Date => new Date(iso);
const life = (actor: Staff, now: string) => ({ actor, now: at(now) });
const decideCtx = (actor: Staff, now: string, customerId: string) => ({
  actor,
  now: at(now),
  customer: customer(customerId),
  staff: (id: string) => directory.get(id),
  maxReviewMonths: 6,
  timeZone: ZONE,
});

function requested(id: string, category: Category, when: string): Restriction {
  return requestRestriction(
    { customerId: `C-${id}`, category, summary: 'what happened', evidence: [{ type: 'call-log', reference: `EV-${id}` }], authorisedBy: 'mike', noWarningReason: 'risk to staff' },
    { id, actor: alice, now: at(when), authoriser: mike },
  );
}

/** Requested, decided and approved; `decision` is decided the day after the request. */
function approved(id: string, category: Category, requestedAt: string, approvedAt: string, decision: Omit<DecideInput, 'singlePointOfContact'>): Restriction {
  const r = requested(id, category, requestedAt);
  const decidedAt = new Date(at(requestedAt).getTime() + 3600_000).toISOString();
  const decided = decideRestriction(r, { ...decision, singlePointOfContact: 'tina' }, decideCtx(tina, decidedAt, r.customerId));
  return approveRestriction(decided, life(tom, approvedAt));
}

const callTimes: Measure = { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }] };
const named: Measure = { type: 'named-contact', staffId: 'tina' };
const writtenOnly: Measure = { type: 'written-only', channels: ['letter', 'email'] };
const wordLimit: Measure = { type: 'word-limit', maxWords: 500 };
const frequency: Measure = { type: 'response-frequency', every: 'P7D', weekday: 'fri' };
const other: Measure = { type: 'other', description: 'Home visits in pairs' };
const newIssues: Measure = { type: 'new-issues-only' };

/** The seeded month's cases; each comment says what the June 2025 report should make of it. */
function seededRestrictions(): Restriction[] {
  // A: active since April; reviewed in June (done, and due: its first review stands in for the date it answered).
  let a = approved('RA', 'excessive-contact', '2025-04-01T09:00:00Z', '2025-04-10T09:00:00Z', {
    measures: [callTimes, named],
    reviewAt: '2025-06-20T09:00:00Z',
  });
  a = reviewRestriction(a, { outcome: 'continue', note: 'still needed', nextReviewAt: '2025-09-18T09:00:00Z' }, decideCtx(tina, '2025-06-18T10:00:00Z', a.customerId));

  // B: new in June; review due 25 June and not done → overdue; appeal received in June, still open.
  let b = approved('RB', 'abusive-contact', '2025-05-20T09:00:00Z', '2025-06-02T09:00:00Z', {
    measures: [writtenOnly, wordLimit],
    reviewAt: '2025-06-25T09:00:00Z',
  });
  b = recordAppeal(b, { grounds: 'unfair' }, life(tina, '2025-06-10T09:00:00Z'));

  // C: lifted in June.
  let c = approved('RC', 'multiple-unsubstantiated', '2025-02-20T09:00:00Z', '2025-03-01T09:00:00Z', {
    measures: [frequency],
    reviewAt: '2025-08-01T09:00:00Z',
  });
  c = liftRestriction(c, { reason: 'behaviour improved' }, life(tina, '2025-06-15T09:00:00Z'));

  // D: ends 20 June (the sweep has not run); its 30 June review date is moot once it has expired.
  const d = approved('RD', 'excessive-contact', '2025-04-25T09:00:00Z', '2025-05-01T09:00:00Z', {
    measures: [callTimes],
    reviewAt: '2025-06-30T10:00:00Z',
    endsAt: '2025-06-20T12:00:00Z',
  });

  // E: varied in June; an appeal from May dismissed in June by a ts-manager not involved before.
  let e = approved('RE', 'other', '2025-01-10T09:00:00Z', '2025-01-15T09:00:00Z', {
    measures: [other],
    reviewAt: '2025-07-10T09:00:00Z',
    endsAt: '2025-07-15T09:00:00Z',
  });
  e = recordAppeal(e, { grounds: 'too strict' }, life(tina, '2025-05-20T09:00:00Z'));
  e = varyRestriction(e, { measures: [other, newIssues], note: 'add new-issues-only', reviewAt: '2025-07-10T09:00:00Z' }, decideCtx(tina, '2025-06-05T09:00:00Z', e.customerId));
  e = decideAppeal(e, { outcome: 'dismissed', note: 'proportionate' }, decideCtx(tara, '2025-06-12T09:00:00Z', e.customerId));

  // F: requested in June, nothing more.
  const f = requested('RF', 'other', '2025-06-25T09:00:00Z');
  // G: requested and rejected in June.
  const g = rejectRestriction(requested('RG', 'abusive-contact', '2025-06-05T09:00:00Z'), { reason: 'not proportionate' }, life(tom, '2025-06-08T09:00:00Z'));
  // H: approved at 23:30 BST on 30 June — 22:30 UTC — so June's, locally.
  const h = approved('RH', 'abusive-contact', '2025-06-20T09:00:00Z', '2025-06-30T22:30:00Z', { measures: [newIssues], reviewAt: '2025-12-01T09:00:00Z' });
  // I: approved at 00:30 BST on 1 July — still 30 June in UTC — so July's; at June's end it awaited approval.
  const i = approved('RI', 'abusive-contact', '2025-06-22T09:00:00Z', '2025-06-30T23:30:00Z', { measures: [newIssues], reviewAt: '2025-12-01T09:00:00Z' });

  // X: expired in May through the sweep: neither active nor expired in June.
  const x0 = approved('RX', 'other', '2025-01-02T09:00:00Z', '2025-01-05T09:00:00Z', { measures: [other], reviewAt: '2025-05-01T09:00:00Z', endsAt: '2025-04-30T09:00:00Z' });
  const x = expireIfDue(x0, at('2025-05-02T00:00:00Z'));
  if (!x) throw new Error('fixture: RX should expire');

  return [a, b, c, d, e, f, g, h, i, x];
}

const contacts: ReportContact[] = [
  { restrictionId: 'RB', breach: true, receivedAt: '2025-06-05T10:00:00Z' },
  { restrictionId: 'RB', breach: true, receivedAt: '2025-06-07T10:00:00Z' },
  // 00:30 BST on 1 June: June's, though 31 May in UTC.
  { restrictionId: 'RA', breach: true, receivedAt: '2025-05-31T23:30:00Z' },
  // 00:30 BST on 1 July: not June's.
  { restrictionId: 'RA', breach: true, receivedAt: '2025-06-30T23:30:00Z' },
  { restrictionId: 'RA', breach: false, receivedAt: '2025-06-10T10:00:00Z' },
  { breach: false, receivedAt: '2025-06-11T10:00:00Z' },
];

const NOW = at('2025-07-03T09:00:00Z');
const report = (restrictions: Restriction[], month = '2025-06', sampleSize = 3) =>
  monthlyReport({ month, restrictions, contacts, sampleSize, timeZone: ZONE, now: NOW });

describe('monthlyReport over a seeded month', () => {
  const seeded = seededRestrictions();

  it('gives the local month as instants (BST: 23:00 UTC the evening before)', () => {
    const r = report(seeded);
    expect(r.period).toEqual({ start: '2025-05-31T23:00:00.000Z', end: '2025-06-30T23:00:00.000Z' });
    expect(r.complete).toBe(true);
    expect(r.asOf).toBe('2025-06-30T23:00:00.000Z');
    expect(r.generatedAt).toBe(NOW.toISOString());
  });

  it('counts restrictions active, new, varied, lifted, expired, requested and rejected', () => {
    expect(report(seeded).restrictions).toEqual({ active: 4, new: 2, varied: 1, lifted: 1, expired: 1, requested: 4, rejected: 1 });
  });

  it('counts by category and by measure type', () => {
    const r = report(seeded);
    expect(r.byCategory).toEqual({
      'excessive-contact': { active: 1, new: 0 },
      'multiple-unsubstantiated': { active: 0, new: 0 },
      'abusive-contact': { active: 2, new: 2 },
      other: { active: 1, new: 0 },
    });
    expect(r.byMeasure).toEqual({
      'call-times': 1,
      'named-contact': 1,
      'appointments-only': 0,
      'written-only': 1,
      'word-limit': 1,
      'response-frequency': 0,
      'new-issues-only': 2,
      other: 1,
    });
  });

  it('counts reviews done, due and overdue', () => {
    expect(report(seeded).reviews).toEqual({ done: 1, due: 2, overdue: 1 });
  });

  it('counts appeals received, their outcomes and those still open', () => {
    expect(report(seeded).appeals).toEqual({ received: 1, upheld: 0, dismissed: 1, varied: 0, open: 1 });
  });

  it('counts breaches in the local month and the restrictions breached', () => {
    expect(report(seeded).breaches).toEqual({ total: 3, restrictions: 2 });
  });

  it('samples N of the cases active at month end, the same sample twice', () => {
    const first = report(seeded).auditSample;
    expect(first).toHaveLength(3);
    const ids = first.map((c) => c.restrictionId);
    expect(ids.every((id) => ['RA', 'RB', 'RE', 'RH'].includes(id))).toBe(true);
    expect(ids).toEqual([...ids].sort());
    expect(report(seeded).auditSample).toEqual(first);
    // What an auditor needs to find the case, and never its evidence or summary.
    const sampled = first[0];
    expect(sampled && Object.keys(sampled).sort()).toEqual(
      expect.arrayContaining(['restrictionId', 'customerId', 'category', 'measures', 'approvedBy', 'reviewAt']),
    );
    expect(JSON.stringify(first)).not.toMatch(/EV-|what happened/);
  });

  it('gives the same sample whatever order the cases arrive in', () => {
    const expected = report(seeded).auditSample;
    fc.assert(
      fc.property(fc.shuffledSubarray(seeded, { minLength: seeded.length, maxLength: seeded.length }), (shuffled) => {
        expect(report(shuffled).auditSample).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('draws the sample from the month: other months draw other samples', () => {
    // With 4 candidates and 2 drawn there are 6 possible samples; across a year some months must differ.
    const months = ['2025-06', '2025-05', '2025-04', '2025-03', '2025-02', '2025-01', '2024-12', '2024-11', '2024-10', '2024-09', '2024-08', '2024-07'];
    const candidates = ['a', 'b', 'c', 'd'];
    const samples = new Set(months.map((m) => seededSample(candidates, 2, m).sort().join(',')));
    expect(samples.size).toBeGreaterThan(1);
  });

  it('samples everything when fewer cases are active than asked for, and nothing for N = 0', () => {
    expect(report(seeded, '2025-06', 10).auditSample.map((c) => c.restrictionId)).toEqual(['RA', 'RB', 'RE', 'RH']);
    expect(report(seeded, '2025-06', 0).auditSample).toEqual([]);
  });

  it('lists every case in force at month end or touched in the month, with its review date, category and measures', () => {
    const r = report(seeded);
    // RX expired in May and nothing happened to it in June: not June's case. RI awaited approval at June's end.
    expect(r.cases.map((c) => [c.restrictionId, c.status, c.events.join(' ')])).toEqual([
      ['RA', 'active', 'review:continue'],
      ['RB', 'active', 'approve appeal'],
      ['RC', 'lifted', 'lift'],
      ['RD', 'expired', 'expire'],
      ['RE', 'active', 'vary appeal:dismissed'],
      ['RF', 'requested', 'request'],
      ['RG', 'rejected', 'request reject'],
      ['RH', 'active', 'request decide approve'],
      ['RI', 'pending-approval', 'request decide'],
    ]);
    const byId = new Map(r.cases.map((c) => [c.restrictionId, c]));
    expect(byId.get('RA')).toMatchObject({
      category: 'excessive-contact',
      measures: ['call-times', 'named-contact'],
      reviewDueAt: '2025-09-18T09:00:00.000Z',
      reviewOverdue: false,
      lastReviewAt: '2025-06-18T10:00:00.000Z',
      breaches: 1,
      appealOpen: false,
    });
    expect(byId.get('RB')).toMatchObject({ reviewDueAt: '2025-06-25T09:00:00.000Z', reviewOverdue: true, appealOpen: true, breaches: 2 });
    expect(byId.get('RE')).toMatchObject({ appealOpen: false, measures: ['other', 'new-issues-only'] });
    // Only cases in force have a review date in force; the totals and the list agree.
    expect(byId.get('RC')?.reviewDueAt).toBeUndefined();
    expect(r.cases.filter((c) => c.reviewOverdue)).toHaveLength(r.reviews.overdue);
    expect(r.cases.filter((c) => c.status === 'active')).toHaveLength(r.restrictions.active);
    expect(r.cases.reduce((n, c) => n + c.breaches, 0)).toBe(r.breaches.total);
    expect(JSON.stringify(r.cases)).not.toMatch(/EV-|what happened|unfair|behaviour improved/);
  });

  it('dates an expiry by the end date, once, whenever the sweep recorded it', () => {
    const base = () => approved('RS', 'other', '2025-01-02T09:00:00Z', '2025-01-05T09:00:00Z', { measures: [other], reviewAt: '2025-07-01T09:00:00Z', endsAt: '2025-06-10T09:00:00Z' });
    // Swept an hour after its end date, in the same month: one expiry, not two.
    const swept = expireIfDue(base(), at('2025-06-10T10:00:00Z'));
    if (!swept) throw new Error('fixture: RS should expire');
    const june = report([swept]);
    expect(june.cases.map((c) => [c.restrictionId, c.status, c.events])).toEqual([['RS', 'expired', ['expire']]]);
    expect(june.restrictions.expired).toBe(1);

    // Ended on 31 May (local), swept at 00:30 on 1 June: May's expiry, and nothing happened to it in June.
    const may = approved('RT', 'other', '2025-01-02T09:00:00Z', '2025-01-05T09:00:00Z', { measures: [other], reviewAt: '2025-07-01T09:00:00Z', endsAt: '2025-05-31T20:00:00Z' });
    const sweptLate = expireIfDue(may, at('2025-05-31T23:30:00Z'));
    if (!sweptLate) throw new Error('fixture: RT should expire');
    expect(report([sweptLate], '2025-05').restrictions.expired).toBe(1);
    expect(report([sweptLate], '2025-05').cases.map((c) => c.events)).toEqual([['expire']]);
    expect(report([sweptLate]).cases).toEqual([]);
    expect(report([sweptLate]).restrictions.expired).toBe(0);

    // The month in progress: an end date still ahead is not an expiry yet.
    const later = monthlyReport({ month: '2025-06', restrictions: [base()], contacts, sampleSize: 1, timeZone: ZONE, now: at('2025-06-05T09:00:00Z') });
    expect(later.cases.map((c) => [c.status, c.events])).toEqual([['active', []]]);
    expect(later.restrictions.expired).toBe(0);
  });

  it('reads the month in progress as of now', () => {
    const r = monthlyReport({ month: '2025-07', restrictions: seeded, contacts, sampleSize: 5, timeZone: ZONE, now: NOW });
    expect(r.complete).toBe(false);
    expect(r.asOf).toBe(NOW.toISOString());
    // I was approved at 00:30 BST on 1 July; RA's July breach is counted; E (ends 15 July) is still active.
    expect(r.restrictions.new).toBe(1);
    expect(r.restrictions.active).toBe(5);
    expect(r.breaches).toEqual({ total: 1, restrictions: 1 });
  });

  it('refuses a malformed month or sample size', () => {
    expect(() => report(seeded, '2025-13')).toThrow(expect.objectContaining({ code: 'invalid-month' }));
    expect(() => report(seeded, '25-06')).toThrow(expect.objectContaining({ code: 'invalid-month' }));
    expect(() => report(seeded, '2025-06', -1)).toThrow(expect.objectContaining({ code: 'invalid-sample-size' }));
    expect(() => report(seeded, '2025-06', 1.5)).toThrow(expect.objectContaining({ code: 'invalid-sample-size' }));
  });
});

describe('monthPeriod', () => {
  it('spans whole local days across the autumn clock change', () => {
    expect(monthPeriod('2025-10', ZONE)).toEqual({ start: at('2025-09-30T23:00:00Z'), end: at('2025-11-01T00:00:00Z') });
    expect(monthPeriod('2025-10', 'UTC')).toEqual({ start: at('2025-10-01T00:00:00Z'), end: at('2025-11-01T00:00:00Z') });
  });
});

describe('seededSample', () => {
  it('draws min(n, length) distinct items of the input, deterministically', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 30 }), fc.nat(40), fc.string(), (items, n, seed) => {
        const sample = seededSample(items, n, seed);
        expect(sample).toHaveLength(Math.min(n, items.length));
        expect(new Set(sample).size).toBe(sample.length);
        expect(sample.every((s) => items.includes(s))).toBe(true);
        expect(seededSample(items, n, seed)).toEqual(sample);
      }),
      { numRuns: 200 },
    );
  });

  it('reaches every item: over many seeds each candidate is drawn at some point', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i += 1) for (const s of seededSample(['a', 'b', 'c', 'd', 'e'], 1, `seed-${i}`)) seen.add(s);
    expect([...seen].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
