/**
 * The monthly compliance report (policy §9: "monthly reports of restricted access processes which track
 * review dates, reasons and restrictions imposed", and ts-managers "auditing a sample of cases each month").
 *
 * Pure: the restrictions and contacts are passed in, the clock is `now`, and the month is read as a local
 * calendar month in the organisation's zone (a restriction approved at 00:30 BST on 1 July is July's, though
 * it is still 30 June in UTC). Every count is taken from the restrictions' history timestamps, so the report
 * for a past month is the same whenever it is run — except for what the record cannot remember: measures and
 * review dates are kept only as they are now (see {@link reviewDueAt}).
 *
 * The audit sample is random but reproducible: the same month and the same cases always give the same sample,
 * whatever order the cases arrive in, so a manager and an auditor who run the report separately audit the
 * same cases.
 */
import { DateTime } from 'luxon';
import { timeZoneOf } from './call-windows';
import { invalid } from './errors';
import { CATEGORIES, MEASURE_TYPES, type Category, type MeasureType, type Restriction, type RestrictionStatus } from './types';

/** A contact as the report needs it: when it came, which restriction it fell under, whether it breached it. */
export interface ReportContact {
  restrictionId?: string;
  breach?: boolean;
  /** ISO instant. */
  receivedAt: string;
}

export interface MonthlyReportInput {
  /** `YYYY-MM`. */
  month: string;
  restrictions: Restriction[];
  contacts: ReportContact[];
  /** How many active cases to sample for audit (default 5 in config/). */
  sampleSize: number;
  /** IANA zone whose calendar month is reported. */
  timeZone: string;
  now: Date;
}

/** Restrictions counted by what happened to them in the month. */
export interface RestrictionCounts {
  /** Active at the end of the month (or now, for the month in progress). */
  active: number;
  /** Approved in the month. */
  new: number;
  /** Varied in the month (by a variation, a review or an appeal outcome); each restriction once. */
  varied: number;
  /** Lifted in the month (lifted, lifted on review, appeal upheld). */
  lifted: number;
  /** Reached their end date in the month. */
  expired: number;
  /** Requested in the month. */
  requested: number;
  /** Rejected in the month. */
  rejected: number;
}

export interface ReviewCounts {
  /** Reviews recorded in the month. */
  done: number;
  /** Restrictions with a review date in the month. */
  due: number;
  /** Restrictions active at month end whose review date had passed without a review. */
  overdue: number;
}

export interface AppealCounts {
  /** Appeals recorded in the month. */
  received: number;
  /** Appeal outcomes recorded in the month, by outcome. */
  upheld: number;
  dismissed: number;
  varied: number;
  /** Appeals awaiting an outcome at month end. */
  open: number;
}

export interface BreachCounts {
  /** Contacts in the month that breached a restriction. */
  total: number;
  /** How many distinct restrictions were breached. */
  restrictions: number;
}

/** One case drawn for the manager's audit: enough to find it and see its shape, never its evidence. */
export interface AuditSampleCase {
  restrictionId: string;
  customerId: string;
  category: Category;
  measures: MeasureType[];
  approvedBy?: string;
  approvedAt?: string;
  reviewAt?: string;
  singlePointOfContact?: string;
}

/**
 * One restriction in the month's case list: every restriction in force at month end, or that anything
 * happened to in the month. What policy §9 says the reports track — review dates, reasons (the behaviour
 * category; never the summary or evidence) and the restrictions imposed — case by case, so a manager can
 * see which cases the totals are made of.
 */
export interface ReportCase {
  restrictionId: string;
  customerId: string;
  category: Category;
  /** At month end (`asOf`). */
  status: RestrictionStatus;
  /** Current measures (the record keeps only the measures as they are now). */
  measures: MeasureType[];
  approvedAt?: string;
  endsAt?: string;
  /** The review date in force at month end, when the record lets us know it ({@link reviewDueAt}). */
  reviewDueAt?: string;
  /** In force at month end with its review date passed and no review since. */
  reviewOverdue: boolean;
  /** The last review recorded by month end. */
  lastReviewAt?: string;
  /** An appeal awaited its outcome at month end. */
  appealOpen: boolean;
  /** Contacts in the month that breached it. */
  breaches: number;
  /** What happened to it in the month, in order: its history's actions (`approve`, `vary`, `review:keep`…). */
  events: string[];
}

export interface MonthlyReport {
  month: string;
  timeZone: string;
  /** The month as instants: `start` inclusive, `end` exclusive. */
  period: { start: string; end: string };
  /** The instant "at month end" figures were taken: the month's end, or `now` for the month in progress. */
  asOf: string;
  /** False while the month is still in progress. */
  complete: boolean;
  generatedAt: string;
  restrictions: RestrictionCounts;
  /** Active at month end and new in the month, per behaviour category. */
  byCategory: Record<Category, { active: number; new: number }>;
  /** Restrictions active at month end that include each type of measure (current measures). */
  byMeasure: Record<MeasureType, number>;
  reviews: ReviewCounts;
  appeals: AppealCounts;
  breaches: BreachCounts;
  /** How many cases were asked for; the sample is smaller when fewer are active. */
  sampleSize: number;
  /** Ordered by restriction id. */
  auditSample: AuditSampleCase[];
  /** Every case in force at month end or touched in the month ({@link ReportCase}), ordered by restriction id. */
  cases: ReportCase[];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** History actions that change measures while a restriction stays active (rules/lifecycle.ts). */
const VARY_ACTIONS = new Set(['vary', 'review:vary', 'appeal:varied']);
const APPEAL_OUTCOMES = { 'appeal:upheld': 'upheld', 'appeal:dismissed': 'dismissed', 'appeal:varied': 'varied' } as const;

/**
 * The local calendar month `YYYY-MM` in `timeZone`, as instants.
 * @throws RuleError `invalid-month` for anything but `YYYY-MM`.
 */
export function monthPeriod(month: string, timeZone: string): { start: Date; end: Date } {
  const m = MONTH.exec(month);
  if (!m) throw invalid('invalid-month', `month must be YYYY-MM, not "${month}"`);
  const start = DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]), day: 1 }, { zone: timeZoneOf(timeZone) });
  return { start: start.toJSDate(), end: start.plus({ months: 1 }).toJSDate() };
}

function ms(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = new Date(iso).getTime();
  return Number.isNaN(t) ? undefined : t;
}

/** `t` within [start, end). */
function within(t: number | undefined, start: number, end: number): boolean {
  return t !== undefined && t >= start && t < end;
}

/**
 * The restriction's status at instant `t`, replayed from its history. An active restriction whose end date
 * has passed counts as expired from that date, whether or not the expiry sweep has run yet.
 */
export function statusAt(r: Restriction, t: number): RestrictionStatus | undefined {
  let status: RestrictionStatus | undefined;
  for (const step of r.history) {
    const at = ms(step.at);
    if (at === undefined || at > t) continue;
    status = step.to;
  }
  const endsAt = ms(r.endsAt);
  if (status === 'active' && endsAt !== undefined && endsAt <= t) return 'expired';
  return status;
}

/** When the restriction expired: its end date, if it was still active then (not lifted first). */
function expiredAt(r: Restriction): number | undefined {
  const endsAt = ms(r.endsAt);
  if (endsAt === undefined) return undefined;
  // Active just before the end date means the end date is what ended it.
  return statusAt(r, endsAt - 1) === 'active' ? endsAt : undefined;
}

/** The restriction's reviews in the order they were recorded. */
function reviewsInOrder(r: Restriction): Array<{ at: number; nextReviewAt: number | undefined }> {
  return r.reviews
    .map((rv) => ({ at: ms(rv.at), nextReviewAt: ms(rv.nextReviewAt) }))
    .filter((rv): rv is { at: number; nextReviewAt: number | undefined } => rv.at !== undefined)
    .sort((a, b) => a.at - b.at);
}

/**
 * The review date in force at instant `t`: the next date set by the last review before `t`, else the
 * restriction's review date. The record keeps only the current review date, so when every recorded review
 * happened after `t` the date that was in force at `t` is no longer known and `undefined` is returned
 * (such a case is not counted as overdue — the report errs towards not accusing).
 */
export function reviewDueAt(r: Restriction, t: number): number | undefined {
  const reviews = reviewsInOrder(r);
  const before = reviews.filter((rv) => rv.at <= t);
  const last = before[before.length - 1];
  if (!last) return reviews.length === 0 ? ms(r.reviewAt) : undefined;
  // A review that lifted the restriction sets no next date; the current one is the best left.
  return last.nextReviewAt ?? (before.length === reviews.length ? ms(r.reviewAt) : undefined);
}

/**
 * Every review date the record lets us know: the current one and each one set by a review. The date the
 * first review answered was overwritten by that review, so the first review's own date stands in for it
 * (reviews are prompted by reminders, so they are done close to when they are due).
 */
function knownReviewDates(r: Restriction): number[] {
  const reviews = reviewsInOrder(r);
  const first = reviews[0];
  const dates = [ms(r.reviewAt), first?.at, ...reviews.map((rv) => rv.nextReviewAt)];
  return dates.filter((d): d is number => d !== undefined);
}

/** FNV-1a, 32-bit: a small, well-spread hash of the month string to seed the sampler. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * mulberry32: a tiny seeded PRNG with good statistical quality for sampling (not for secrets). Returns
 * numbers in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draws `n` items without replacement, reproducibly from `seed`: a partial Fisher–Yates shuffle of the
 * items as given (callers sort them first, so the draw does not depend on input order).
 */
export function seededSample<T>(items: readonly T[], n: number, seed: string): T[] {
  const pool = [...items];
  const random = mulberry32(fnv1a(seed));
  const take = Math.min(Math.max(0, Math.floor(n)), pool.length);
  for (let i = 0; i < take; i += 1) {
    const j = i + Math.floor(random() * (pool.length - i));
    const picked = pool[j] as T;
    pool[j] = pool[i] as T;
    pool[i] = picked;
  }
  return pool.slice(0, take);
}

function emptyCategoryCounts(): Record<Category, { active: number; new: number }> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, { active: 0, new: 0 }])) as Record<Category, { active: number; new: number }>;
}

function emptyMeasureCounts(): Record<MeasureType, number> {
  return Object.fromEntries(MEASURE_TYPES.map((m) => [m, 0])) as Record<MeasureType, number>;
}

function byId(a: Restriction, b: Restriction): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function toSampleCase(r: Restriction): AuditSampleCase {
  return {
    restrictionId: r.id,
    customerId: r.customerId,
    category: r.category,
    measures: [...new Set(r.measures.map((m) => m.type))],
    ...(r.approvedBy ? { approvedBy: r.approvedBy } : {}),
    ...(r.approvedAt ? { approvedAt: r.approvedAt } : {}),
    ...(r.reviewAt ? { reviewAt: r.reviewAt } : {}),
    ...(r.singlePointOfContact ? { singlePointOfContact: r.singlePointOfContact } : {}),
  };
}

/** A case-list row ({@link ReportCase}) for `r` as it stood at `facts.asOf`. */
function toReportCase(
  r: Restriction,
  status: RestrictionStatus,
  facts: { asOf: number; due: number | undefined; overdue: boolean; appealOpen: boolean; breaches: number; events: string[] },
): ReportCase {
  const lastReview = reviewsInOrder(r)
    .filter((rv) => rv.at <= facts.asOf)
    .pop();
  return {
    restrictionId: r.id,
    customerId: r.customerId,
    category: r.category,
    status,
    measures: [...new Set(r.measures.map((m) => m.type))],
    ...(r.approvedAt ? { approvedAt: r.approvedAt } : {}),
    ...(r.endsAt ? { endsAt: r.endsAt } : {}),
    ...(facts.due !== undefined ? { reviewDueAt: new Date(facts.due).toISOString() } : {}),
    reviewOverdue: facts.overdue,
    ...(lastReview ? { lastReviewAt: new Date(lastReview.at).toISOString() } : {}),
    appealOpen: facts.appealOpen,
    breaches: facts.breaches,
    events: facts.events,
  };
}

/**
 * Computes the compliance report for one local calendar month.
 * @throws RuleError `invalid-month` for a malformed month, `invalid-sample-size` for a negative or fractional
 * sample size, and InvalidTimeZoneError for an unknown zone.
 */
export function monthlyReport(input: MonthlyReportInput): MonthlyReport {
  const { start, end } = monthPeriod(input.month, input.timeZone);
  if (!Number.isInteger(input.sampleSize) || input.sampleSize < 0) {
    throw invalid('invalid-sample-size', 'sampleSize must be a whole number, zero or more');
  }
  const from = start.getTime();
  const to = end.getTime();
  const nowMs = input.now.getTime();
  const complete = nowMs >= to;
  // "At month end" for the month in progress means now; the last instant of the month otherwise.
  const asOf = complete ? to - 1 : nowMs;

  const restrictions: RestrictionCounts = { active: 0, new: 0, varied: 0, lifted: 0, expired: 0, requested: 0, rejected: 0 };
  const reviews: ReviewCounts = { done: 0, due: 0, overdue: 0 };
  const appeals: AppealCounts = { received: 0, upheld: 0, dismissed: 0, varied: 0, open: 0 };
  const byCategory = emptyCategoryCounts();
  const byMeasure = emptyMeasureCounts();
  const active: Restriction[] = [];
  const breachesBy = new Map<string, number>();
  for (const c of input.contacts) {
    if (c.breach !== true || c.restrictionId === undefined || !within(ms(c.receivedAt), from, to)) continue;
    breachesBy.set(c.restrictionId, (breachesBy.get(c.restrictionId) ?? 0) + 1);
  }
  const cases: ReportCase[] = [];

  for (const r of input.restrictions) {
    const events: string[] = [];
    let varied = false;
    let lifted = false;
    let appealOpen = false;
    for (const step of r.history) {
      const at = ms(step.at);
      if (at === undefined) continue;
      // Appeals open before the month may still be open at its end, so track them whatever the step's month.
      if (at <= asOf) {
        if (step.action === 'appeal') appealOpen = true;
        else if (step.action in APPEAL_OUTCOMES || step.to === 'lifted' || step.to === 'expired') appealOpen = false;
      }
      if (!within(at, from, to)) continue;
      // Expiry is dated by the end date, not by when the sweep (or a read) recorded it: added below.
      if (step.action !== 'expire') events.push(step.action);
      if (step.action === 'request') restrictions.requested += 1;
      else if (step.action === 'approve') {
        restrictions.new += 1;
        byCategory[r.category].new += 1;
      } else if (step.to === 'rejected') restrictions.rejected += 1;
      if (VARY_ACTIONS.has(step.action)) varied = true;
      if (step.to === 'lifted' && step.from !== 'lifted') lifted = true;
      if (step.action.startsWith('review:')) reviews.done += 1;
      if (step.action === 'appeal') appeals.received += 1;
      const outcome = APPEAL_OUTCOMES[step.action as keyof typeof APPEAL_OUTCOMES];
      if (outcome) appeals[outcome] += 1;
    }
    if (varied) restrictions.varied += 1;
    if (lifted) restrictions.lifted += 1;
    // An end date later in the month in progress has not been reached yet.
    const expiredInMonth = within(expiredAt(r), from, Math.min(to, asOf + 1));
    if (expiredInMonth) restrictions.expired += 1;
    if (appealOpen && statusAt(r, asOf) === 'active') appeals.open += 1;

    // A review is due in the month only while the restriction is live: a date left on a lifted case is moot.
    const dueInMonth = knownReviewDates(r).some((d) => within(d, from, to) && statusAt(r, Math.min(d, asOf)) === 'active');
    if (dueInMonth) reviews.due += 1;

    const status = statusAt(r, asOf);
    if (expiredInMonth) events.push('expire');
    const inForce = status === 'active';
    const due = inForce ? reviewDueAt(r, asOf) : undefined;
    const overdue = due !== undefined && due <= asOf;
    if (status !== undefined && (inForce || events.length > 0)) cases.push(toReportCase(r, status, { asOf, due, overdue, appealOpen: appealOpen && inForce, breaches: breachesBy.get(r.id) ?? 0, events }));

    if (!inForce) continue;
    active.push(r);
    restrictions.active += 1;
    byCategory[r.category].active += 1;
    for (const type of new Set(r.measures.map((m) => m.type))) byMeasure[type] += 1;
    if (overdue) reviews.overdue += 1;
  }

  const breached = new Set<string>();
  let breachTotal = 0;
  for (const c of input.contacts) {
    if (c.breach !== true || !within(ms(c.receivedAt), from, to)) continue;
    breachTotal += 1;
    if (c.restrictionId) breached.add(c.restrictionId);
  }

  const candidates = active.sort(byId);
  const auditSample = seededSample(candidates, input.sampleSize, `gatekeeper-audit:${input.month}`).sort(byId).map(toSampleCase);

  return {
    month: input.month,
    timeZone: input.timeZone,
    period: { start: start.toISOString(), end: end.toISOString() },
    asOf: new Date(complete ? to : nowMs).toISOString(),
    complete,
    generatedAt: input.now.toISOString(),
    restrictions,
    byCategory,
    byMeasure,
    reviews,
    appeals,
    breaches: { total: breachTotal, restrictions: breached.size },
    sampleSize: input.sampleSize,
    auditSample,
    cases: cases.sort((a, b) => (a.restrictionId < b.restrictionId ? -1 : a.restrictionId > b.restrictionId ? 1 : 0)),
  };
}
