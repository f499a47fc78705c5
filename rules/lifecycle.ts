/**
 * The restriction lifecycle the policy demands (§5, §6, §8, §9), as pure state transitions:
 *
 *   requested ──decide──▶ pending-approval ──approve──▶ active ──lift──▶ lifted
 *       │                       │                          │ └──(endsAt passes)──▶ expired
 *       └────────reject─────────┴──────────▶ rejected      └── review / vary / appeal (stays active)
 *
 * Every function returns a new Restriction (the input is never mutated), appends who/when/why to its
 * history, and throws a RuleError when the action is refused. Which roles may call which action is the
 * gateway's concern; separation of duties — the part that depends on the record — is checked here.
 */
import { DateTime } from 'luxon';

import { timeZoneOf } from './call-windows';
import { conflict, forbidden, invalid } from './errors';
import {
  CATEGORIES,
  type Adjustment,
  type Category,
  type Channel,
  type EnforcedRestriction,
  type Evidence,
  type Measure,
  type Restriction,
  type RestrictionStatus,
  type Staff,
  type Transition,
  type Warning,
} from './types';
import { validateMeasures, type ValidationContext } from './validation';

/** Who acts, and when. */
export interface LifecycleContext {
  actor: Staff;
  now: Date;
  /**
   * The IANA zone that says which day it is, for dates of things that have happened (a warning, an appeal
   * received), which must not be later than today. Default `Europe/London`, DESIGN.md §2's default zone.
   */
  timeZone?: string;
}

/** DESIGN.md §2: local wall-clock times are in the configured zone, `Europe/London` unless configured. */
const DEFAULT_TIME_ZONE = 'Europe/London';

/** Context for actions that set measures: validation needs the customer and the staff directory. */
export interface DecideContext extends LifecycleContext, Omit<ValidationContext, 'now'> {
  timeZone: string;
}

export interface RequestInput {
  customerId: string;
  category: Category;
  summary: string;
  evidence: Evidence[];
  authorisedBy: string;
  warnings?: Warning[];
  noWarningReason?: string;
}

export interface DecideInput {
  measures: Measure[];
  startsAt?: string;
  reviewAt: string;
  endsAt?: string;
  singlePointOfContact: string;
  adjustments?: Adjustment[];
  /** Why these measures (optional: the contract's decide body has no reason field); recorded in the history. */
  note?: string;
}

/** An approval's optional note: why it was approved, recorded in the history. */
export interface ApproveInput {
  note?: string;
}

export interface ReviewInput {
  outcome: 'continue' | 'vary' | 'lift';
  note: string;
  nextReviewAt?: string;
  measures?: Measure[];
  adjustments?: Adjustment[];
  endsAt?: string;
}

export interface VaryInput {
  measures: Measure[];
  note: string;
  reviewAt?: string;
  endsAt?: string;
  singlePointOfContact?: string;
  adjustments?: Adjustment[];
}

export interface AppealOutcomeInput {
  outcome: 'upheld' | 'dismissed' | 'varied';
  note: string;
  measures?: Measure[];
}

export interface ExceptionInput {
  channel: Channel;
  from: string;
  until: string;
  note: string;
}

function requireStatus(r: Restriction, action: string, allowed: RestrictionStatus[]): void {
  if (!allowed.includes(r.status)) {
    throw conflict('invalid-transition', `Cannot ${action} a restriction that is ${r.status}`);
  }
}

function transition(
  r: Restriction,
  action: string,
  to: RestrictionStatus,
  ctx: LifecycleContext,
  note: string | undefined,
  patch: Partial<Restriction>,
): Restriction {
  const step = { action, from: r.status, to, by: ctx.actor.id, at: ctx.now.toISOString(), ...(note ? { note } : {}) };
  return { ...r, ...patch, status: to, history: [...r.history, step] };
}

function requireText(value: string | undefined, code: string, message: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(code, message);
  return value.trim();
}

/** An optional note, trimmed; blank is no note, so the history never shows an empty "why". */
function optionalText(value: string | undefined): string | undefined {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  return trimmed === '' ? undefined : trimmed;
}

const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The instants the staff API takes elsewhere (zod's `iso.datetime({ offset: true })`): seconds and an offset. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/**
 * The day, in `timeZone`, of a date at which something happened: an ISO calendar date (`2026-10-05`) is that
 * day; an ISO instant with its offset (`2026-10-05T14:30:00+01:00`) is the day it fell on in the zone.
 * `undefined` for anything else, including days and times that do not exist (`2026-02-29`, `2026-13-45`).
 */
function dayOf(value: string, timeZone: string): string | undefined {
  if (CALENDAR_DATE.test(value)) {
    // luxon refuses a month or day out of range, where `new Date()` would roll `2026-02-30` into March.
    return DateTime.fromISO(value, { zone: 'utc' }).isValid ? value : undefined;
  }
  if (!INSTANT.test(value)) return undefined;
  const instant = DateTime.fromISO(value, { setZone: true });
  return instant.isValid ? (instant.setZone(timeZoneOf(timeZone)).toISODate() ?? undefined) : undefined;
}

/**
 * Checks the date of something that has already happened (a warning given, an appeal received, a response
 * sent): a real
 * calendar date or instant, and not after today. "Today" is the day in the configured zone, not UTC (at
 * 00:30 BST it is already tomorrow in London), and a date is compared by its day: a date is what the people
 * who record it mean, and an instant later today is most likely a client clock running ahead.
 * @throws RuleError `invalid-dates` (422) naming the field.
 */
export function requirePastDate(value: unknown, field: string, ctx: Pick<LifecycleContext, 'now' | 'timeZone'>): void {
  const zone = ctx.timeZone ?? DEFAULT_TIME_ZONE;
  const day = typeof value === 'string' ? dayOf(value, zone) : undefined;
  if (day === undefined) {
    throw invalid('invalid-dates', `${field} must be a calendar date (YYYY-MM-DD) or a date-time with its offset, not ${JSON.stringify(value)}`);
  }
  const today = DateTime.fromJSDate(ctx.now).setZone(timeZoneOf(zone)).toISODate() ?? '';
  // Both are YYYY-MM-DD with four-digit years, so they compare as strings.
  if (day > today) throw invalid('invalid-dates', `${field} ${JSON.stringify(value)} is in the future: record it once it has happened`);
}

/**
 * Whether `stored` is the restriction that `input`, sent by `requestedBy`, asked for: the same customer,
 * category, summary, evidence, authorising manager, warnings (or reason for none) and requester, compared
 * as {@link requestRestriction} stores them (trimmed, defaults filled in). For a retried request (an
 * `Idempotency-Key`) whose first attempt was stored: judged without validating `input` again, so a request
 * that was valid when stored is recognised even if, say, its authoriser has since changed role.
 */
export function isSameRequest(stored: Restriction, input: RequestInput, requestedBy: string): boolean {
  const asked = (r: RequestInput & { requestedBy: string }): string => {
    const noWarningReason = r.noWarningReason?.trim();
    // A fixed key order, so that equal requests give equal strings.
    return JSON.stringify([
      r.customerId,
      r.category,
      typeof r.summary === 'string' ? r.summary.trim() : r.summary,
      r.evidence,
      r.authorisedBy,
      r.warnings ?? [],
      noWarningReason ? noWarningReason : null,
      r.requestedBy,
    ]);
  };
  return asked(stored) === asked({ ...input, requestedBy });
}

/**
 * Records a request to restrict a customer's contact (policy §8: any member of staff, with their
 * manager's authorisation and supporting evidence; §5: the customer was first given the chance to
 * change, or the request says why not).
 */
export function requestRestriction(
  input: RequestInput,
  ctx: LifecycleContext & { id: string; authoriser?: Staff },
): Restriction {
  if (!CATEGORIES.includes(input.category)) {
    throw invalid('no-category', `category must be one of ${CATEGORIES.join(', ')}`);
  }
  const summary = requireText(input.summary, 'no-summary', 'Describe what happened (summary)');
  if (!Array.isArray(input.evidence) || input.evidence.length === 0) {
    throw invalid('no-evidence', 'A request needs supporting evidence (policy §8)');
  }
  if (!input.authorisedBy) throw invalid('no-authorisation', "A request needs the authorising manager (policy §8)");
  if (!ctx.authoriser || !ctx.authoriser.roles.includes('manager')) {
    throw invalid('unknown-authoriser', `authorisedBy "${input.authorisedBy}" is not a manager on record`);
  }
  if (ctx.authoriser.id === ctx.actor.id) {
    throw forbidden('self-authorised', 'A request must be authorised by a manager other than the requester');
  }
  const warnings = input.warnings ?? [];
  // Policy §5: the customer is first given the chance to change. A warning with no real date, or one dated
  // after the request, cannot show that, so it is refused rather than counted as the warning given.
  warnings.forEach((w, i) => requirePastDate(w.date, `warnings[${i}].date`, ctx));
  const noWarningReason = input.noWarningReason?.trim();
  if (warnings.length === 0 && !noWarningReason) {
    throw invalid(
      'no-warning',
      'The policy gives the customer the chance to change first: record the warning given, or why there was none (noWarningReason)',
    );
  }
  const at = ctx.now.toISOString();
  return {
    id: ctx.id,
    customerId: input.customerId,
    status: 'requested',
    category: input.category,
    summary,
    evidence: input.evidence,
    authorisedBy: ctx.authoriser.id,
    warnings,
    ...(noWarningReason ? { noWarningReason } : {}),
    requestedBy: ctx.actor.id,
    requestedAt: at,
    measures: [],
    adjustments: [],
    exceptions: [],
    appealed: false,
    reviews: [],
    history: [{ action: 'request', from: null, to: 'requested', by: ctx.actor.id, at, note: summary }],
  };
}

/**
 * A tenancy specialist decides the measures (policy §8): validated, including the rule that the customer
 * keeps a channel they can use. The restriction then waits for a ts-manager's approval.
 */
export function decideRestriction(r: Restriction, input: DecideInput, ctx: DecideContext): Restriction {
  requireStatus(r, 'decide', ['requested']);
  if (!input.singlePointOfContact) throw invalid('unknown-staff', 'singlePointOfContact must name a member of staff');
  validateMeasures(input, { ...ctx, now: ctx.now });
  return transition(r, 'decide', 'pending-approval', ctx, optionalText(input.note), {
    decidedBy: ctx.actor.id,
    decidedAt: ctx.now.toISOString(),
    measures: input.measures,
    ...(input.startsAt ? { startsAt: input.startsAt } : {}),
    reviewAt: input.reviewAt,
    ...(input.endsAt ? { endsAt: input.endsAt } : {}),
    singlePointOfContact: input.singlePointOfContact,
    adjustments: input.adjustments ?? [],
  });
}

/**
 * A ts-manager approves (policy §9). Separation of duties: the approver neither requested nor decided.
 * Enforcement starts at `startsAt`, or now. The approval's note, if any, is recorded in the history (it is
 * optional: the contract gives /approve no body).
 */
export function approveRestriction(r: Restriction, ctx: LifecycleContext, input: ApproveInput = {}): Restriction {
  requireStatus(r, 'approve', ['pending-approval']);
  if (ctx.actor.id === r.requestedBy || ctx.actor.id === r.decidedBy) {
    throw forbidden('separation-of-duties', 'The approver must be neither the requester nor the decider');
  }
  const at = ctx.now.toISOString();
  return transition(r, 'approve', 'active', ctx, optionalText(input.note), {
    approvedBy: ctx.actor.id,
    approvedAt: at,
    startsAt: r.startsAt ?? at,
  });
}

/** Rejects a request or a decision awaiting approval, with the reason. */
export function rejectRestriction(r: Restriction, input: { reason: string }, ctx: LifecycleContext): Restriction {
  requireStatus(r, 'reject', ['requested', 'pending-approval']);
  const reason = requireText(input.reason, 'no-reason', 'Give the reason for rejecting');
  if (r.status === 'pending-approval' && (ctx.actor.id === r.requestedBy || ctx.actor.id === r.decidedBy)) {
    throw forbidden('separation-of-duties', 'A decision is rejected by someone other than its requester or decider');
  }
  return transition(r, 'reject', 'rejected', ctx, reason, {});
}

function varyPatch(r: Restriction, input: VaryInput | ReviewInput, ctx: DecideContext): Partial<Restriction> {
  const measures = input.measures ?? r.measures;
  const reviewAt = ('reviewAt' in input ? input.reviewAt : undefined) ?? ('nextReviewAt' in input ? input.nextReviewAt : undefined) ?? r.reviewAt;
  const singlePointOfContact = ('singlePointOfContact' in input ? input.singlePointOfContact : undefined) ?? r.singlePointOfContact;
  const endsAt = input.endsAt ?? r.endsAt;
  const adjustments = input.adjustments ?? r.adjustments;
  validateMeasures(
    { measures, ...(reviewAt ? { reviewAt } : {}), ...(endsAt ? { endsAt } : {}), adjustments, ...(singlePointOfContact ? { singlePointOfContact } : {}) },
    // A variation's review horizon runs from now, not from the original start.
    { ...ctx, now: ctx.now },
  );
  return {
    measures,
    ...(reviewAt ? { reviewAt } : {}),
    ...(endsAt ? { endsAt } : {}),
    ...(singlePointOfContact ? { singlePointOfContact } : {}),
    adjustments,
  };
}

/** A tenancy specialist varies an active restriction's measures (re-validated; takes effect at once). */
export function varyRestriction(r: Restriction, input: VaryInput, ctx: DecideContext): Restriction {
  requireStatus(r, 'vary', ['active']);
  const note = requireText(input.note, 'no-reason', 'Say why the restriction is varied');
  return transition(r, 'vary', 'active', ctx, note, varyPatch(r, input, ctx));
}

/**
 * Records a review (policy §5: restrictions are kept under continued review): continue with a new review
 * date, vary, or lift.
 */
export function reviewRestriction(r: Restriction, input: ReviewInput, ctx: DecideContext): Restriction {
  requireStatus(r, 'review', ['active']);
  const note = requireText(input.note, 'no-reason', 'Record the reasons for the review outcome');
  const review = {
    at: ctx.now.toISOString(),
    by: ctx.actor.id,
    outcome: input.outcome,
    note,
    ...(input.nextReviewAt ? { nextReviewAt: input.nextReviewAt } : {}),
  };
  const reviews = [...r.reviews, review];
  if (input.outcome === 'lift') {
    return transition(r, 'review:lift', 'lifted', ctx, note, { reviews });
  }
  if (!input.nextReviewAt) throw invalid('no-review-date', 'A continued restriction needs the next review date');
  if (input.outcome === 'continue' && input.measures) {
    throw invalid('invalid-measure', 'To change the measures, use the outcome "vary"');
  }
  return transition(r, `review:${input.outcome}`, 'active', ctx, note, { ...varyPatch(r, input, ctx), reviews });
}

/** Lifts an active restriction; its flags disappear at once. */
export function liftRestriction(r: Restriction, input: { reason: string }, ctx: LifecycleContext): Restriction {
  requireStatus(r, 'lift', ['active']);
  const reason = requireText(input.reason, 'no-reason', 'Give the reason for lifting');
  return transition(r, 'lift', 'lifted', ctx, reason, {});
}

/** Records the customer's written appeal (policy §6). Enforcement continues while it is decided. */
export function recordAppeal(r: Restriction, input: { receivedAt?: string; grounds: string }, ctx: LifecycleContext): Restriction {
  requireStatus(r, 'appeal', ['active']);
  if (r.appealed && r.appeal && !r.appeal.outcome) throw conflict('appeal-open', 'An appeal is already awaiting its outcome');
  const grounds = requireText(input.grounds, 'no-grounds', 'Record the grounds of the appeal');
  const receivedAt = input.receivedAt ?? ctx.now.toISOString();
  // An appeal cannot have been received after it is recorded (the console says so too; the API did not).
  requirePastDate(receivedAt, 'receivedAt', ctx);
  return transition(r, 'appeal', 'active', ctx, grounds, {
    appealed: true,
    appeal: { receivedAt, recordedBy: ctx.actor.id, grounds },
  });
}

/**
 * Decides an appeal. It must be a ts-manager not involved in the original decision (requester, decider or
 * approver). Upheld lifts the restriction; varied changes its measures; dismissed leaves it as it is.
 */
export function decideAppeal(r: Restriction, input: AppealOutcomeInput, ctx: DecideContext): Restriction {
  requireStatus(r, 'decide the appeal of', ['active']);
  if (!r.appeal || r.appeal.outcome) throw conflict('no-open-appeal', 'There is no appeal awaiting an outcome');
  if ([r.requestedBy, r.decidedBy, r.approvedBy, r.authorisedBy].includes(ctx.actor.id)) {
    throw forbidden('separation-of-duties', 'An appeal is decided by someone not involved in the original decision');
  }
  const note = requireText(input.note, 'no-reason', 'Record the reasons for the appeal outcome');
  const appeal = { ...r.appeal, outcome: input.outcome, decidedBy: ctx.actor.id, decidedAt: ctx.now.toISOString(), note };
  if (input.outcome === 'upheld') return transition(r, 'appeal:upheld', 'lifted', ctx, note, { appeal });
  if (input.outcome === 'varied') {
    if (!input.measures) throw invalid('no-measures', 'A varied appeal outcome gives the new measures');
    return transition(r, 'appeal:varied', 'active', ctx, note, { ...varyPatch(r, { measures: input.measures, note }, ctx), appeal });
  }
  return transition(r, 'appeal:dismissed', 'active', ctx, note, { appeal });
}

/**
 * A one-off permission (e.g. a call back arranged for this afternoon) honoured by the gate until `until`
 * and routed to the member of staff who arranged it.
 */
export function addException(r: Restriction, input: ExceptionInput, ctx: LifecycleContext & { id: string }): Restriction {
  requireStatus(r, 'add an exception to', ['active']);
  const from = new Date(input.from);
  const until = new Date(input.until);
  if (Number.isNaN(from.getTime()) || Number.isNaN(until.getTime())) throw invalid('invalid-dates', 'from and until must be date-times');
  if (until.getTime() <= from.getTime()) throw invalid('invalid-dates', 'until must be after from');
  if (until.getTime() <= ctx.now.getTime()) throw invalid('invalid-dates', 'until must be in the future');
  if (until.getTime() - from.getTime() > 7 * 24 * 3600_000) {
    throw invalid('invalid-dates', 'A one-off exception lasts at most 7 days; vary the restriction instead');
  }
  const note = requireText(input.note, 'no-reason', 'Say what was arranged');
  const exception = {
    id: ctx.id,
    channel: input.channel,
    from: from.toISOString(),
    until: until.toISOString(),
    note,
    staffId: ctx.actor.id,
    createdAt: ctx.now.toISOString(),
  };
  // Expired exceptions are dropped here so the enforced snapshot stays small.
  const live = r.exceptions.filter((e) => new Date(e.until).getTime() > ctx.now.getTime());
  return transition(r, 'exception', 'active', ctx, note, { exceptions: [...live, exception] });
}

/** Marks an active restriction past its `endsAt` as expired (by `system`); undefined when not due. */
export function expireIfDue(r: Restriction, now: Date): Restriction | undefined {
  if (r.status !== 'active' || !r.endsAt || new Date(r.endsAt).getTime() > now.getTime()) return undefined;
  const system: Staff = { id: 'system', name: 'Gatekeeper', email: '', roles: [] };
  return transition(r, 'expire', 'expired', { actor: system, now }, 'End date reached', {});
}

/**
 * The audit details of a lifecycle step: the states it moved between and its reason, so that the audit
 * stream alone says who (its actor), when (its time), what and why (DESIGN.md §2) of every transition.
 */
export function transitionAuditDetails(step: Transition | undefined): Record<string, string> | undefined {
  if (step === undefined) return undefined;
  return { ...(step.from ? { from: step.from } : {}), to: step.to, ...(step.note ? { note: step.note } : {}) };
}

/** The part of a restriction the gate enforces and agents may see: no reason, summary or evidence. */
export function toEnforced(r: Restriction): EnforcedRestriction {
  return {
    id: r.id,
    status: r.status,
    measures: r.measures,
    ...(r.startsAt ? { startsAt: r.startsAt } : {}),
    ...(r.endsAt ? { endsAt: r.endsAt } : {}),
    ...(r.reviewAt ? { reviewAt: r.reviewAt } : {}),
    ...(r.singlePointOfContact ? { singlePointOfContact: r.singlePointOfContact } : {}),
    adjustments: r.adjustments,
    exceptions: r.exceptions,
    appealed: isAppealOpen(r),
  };
}

/**
 * Whether an appeal awaits its outcome. `Restriction.appealed` stays set once the restriction has been
 * appealed (its record keeps the outcome), but agents are told "under appeal" only while it is open.
 */
export function isAppealOpen(r: Pick<Restriction, 'appealed' | 'appeal'>): boolean {
  return r.appealed && r.appeal?.outcome === undefined;
}

/**
 * Whether the gate enforces a restriction at `now`: active and between startsAt and endsAt. An overdue
 * review does not end enforcement (it escalates); only endsAt, lifting or rejection do.
 */
export function isEnforceable(r: Pick<EnforcedRestriction, 'status' | 'startsAt' | 'endsAt'>, now: Date): boolean {
  if (r.status !== 'active') return false;
  const t = now.getTime();
  if (r.startsAt && new Date(r.startsAt).getTime() > t) return false;
  if (r.endsAt && new Date(r.endsAt).getTime() <= t) return false;
  return true;
}
