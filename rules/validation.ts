/**
 * Validation of a tenancy specialist's decision (DESIGN.md §2 "Validation"; policy §5): every measure is
 * well formed, every named member of staff exists, a review date is set within the maximum, and — the
 * policy's first duty — the measures leave the customer at least one channel they can actually use given
 * their needs. Emergencies are always provided for: no measure can switch them off, so none is checked here.
 */
import { validateWindows } from './call-windows';
import { invalid } from './errors';
import { parseIsoDuration } from './response-frequency';
import {
  CHANNELS,
  MEASURE_TYPES,
  WEEKDAYS,
  type Adjustment,
  type Channel,
  type Customer,
  type EnforcedRestriction,
  type Measure,
  type Need,
  type Staff,
} from './types';

/** What the decision supplies: the proposed measures and dates. */
export interface MeasuresInput {
  measures: Measure[];
  startsAt?: string;
  reviewAt?: string;
  endsAt?: string;
  singlePointOfContact?: string;
  adjustments?: Adjustment[];
}

/** What validation needs to know besides the input. */
export interface ValidationContext {
  now: Date;
  customer: Customer;
  staff: (id: string) => Staff | undefined;
  /** Longest allowed interval to the review date, in months (default 6). */
  maxReviewMonths: number;
}

/**
 * Channels each need makes unusable unless the restriction records a reasonable adjustment for it.
 * Needs not listed here (e.g. `interpreter:pl`, `advocate`) remove no channel but are shown to staff.
 */
export const CHANNELS_UNUSABLE_BY_NEED: Readonly<Record<string, readonly Channel[]>> = {
  'cannot-use-phone': ['voice'],
  'hearing-impairment': ['voice'],
  bsl: ['voice'],
  'cannot-write': ['letter', 'email'],
  'literacy-support': ['letter', 'email'],
  'visual-impairment': ['letter'],
};

/**
 * The channels a customer can still use under the given measures, taking their needs and any recorded
 * adjustments into account.
 */
export function usableChannels(measures: Measure[], needs: Need[], adjustments: Adjustment[] = []): Channel[] {
  const adjusted = new Set(adjustments.map((a) => a.need));
  const blockedByNeeds = new Set<Channel>();
  for (const need of needs) {
    if (adjusted.has(need)) continue;
    for (const ch of CHANNELS_UNUSABLE_BY_NEED[need] ?? []) blockedByNeeds.add(ch);
  }
  let allowed: Channel[] = [...CHANNELS];
  for (const m of measures) {
    if (m.type === 'written-only') {
      // Written only means no calls and no walk-ins; only the listed written channels stay open.
      const written = m.channels.length > 0 ? m.channels : (['letter', 'email'] as const);
      allowed = allowed.filter((ch) => (written as readonly Channel[]).includes(ch));
    }
  }
  return allowed.filter((ch) => !blockedByNeeds.has(ch));
}

/**
 * Whether a customer's enforced restrictions, together, leave them no channel they can use with their needs
 * as recorded now. {@link validateMeasures} refuses such measures when they are decided; this is the same
 * state reached afterwards, when the needs change (`cannot-write` recorded under `written-only`). Policy §5:
 * at least one way in must stay open, so the gate then stops closing channels (rules/decide.ts) and agents
 * are told to have the restriction reviewed.
 */
export function leavesNoUsableChannel(restrictions: ReadonlyArray<Pick<EnforcedRestriction, 'measures' | 'adjustments'>>, needs: Need[]): boolean {
  if (restrictions.length === 0) return false;
  const measures = restrictions.flatMap((r) => r.measures);
  const adjustments = restrictions.flatMap((r) => r.adjustments);
  return usableChannels(measures, needs, adjustments).length === 0;
}

/** Which of the customer's needs close a channel the measures would otherwise leave open, for messages. */
export function needsBlocking(measures: Measure[], needs: Need[], adjustments: Adjustment[] = []): Need[] {
  const open = usableChannels(measures, [], adjustments);
  const adjusted = new Set(adjustments.map((a) => a.need));
  return needs.filter((n) => !adjusted.has(n) && (CHANNELS_UNUSABLE_BY_NEED[n] ?? []).some((ch) => open.includes(ch)));
}

function isoOrThrow(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw invalid('invalid-dates', `${field} is not a valid date-time: ${value}`);
  return d;
}

function addMonths(d: Date, months: number): Date {
  const r = new Date(d.getTime());
  r.setUTCMonth(r.getUTCMonth() + months);
  return r;
}

function requireStaff(id: string | undefined, field: string, ctx: ValidationContext): void {
  if (id === undefined || id === '') throw invalid('unknown-staff', `${field} must name a member of staff`);
  if (!ctx.staff(id)) throw invalid('unknown-staff', `${field} names unknown staff "${id}"`);
}

function validateMeasure(m: Measure, index: number, ctx: ValidationContext): void {
  const at = `measures[${index}]`;
  if (!MEASURE_TYPES.includes(m.type)) throw invalid('invalid-measure', `${at}: unknown measure type`);
  switch (m.type) {
    case 'call-times': {
      const problem = validateWindows(m.windows);
      if (problem) throw invalid('malformed-window', `${at}: ${problem}`);
      if (m.bankHolidays !== undefined && m.bankHolidays !== 'open' && m.bankHolidays !== 'closed') {
        throw invalid('malformed-window', `${at}: bankHolidays must be "open" or "closed"`);
      }
      return;
    }
    case 'named-contact':
      requireStaff(m.staffId, `${at}.staffId`, ctx);
      if (m.deputyId !== undefined) requireStaff(m.deputyId, `${at}.deputyId`, ctx);
      if (m.deputyId === m.staffId) throw invalid('invalid-measure', `${at}: the deputy must be someone else`);
      return;
    case 'appointments-only':
      requireStaff(m.staffId, `${at}.staffId`, ctx);
      return;
    case 'written-only':
      if (!Array.isArray(m.channels) || m.channels.some((c) => c !== 'letter' && c !== 'email')) {
        throw invalid('invalid-measure', `${at}: written-only channels may be "letter" and "email" only`);
      }
      return;
    case 'word-limit':
      if (!Number.isInteger(m.maxWords) || m.maxWords < 1) {
        throw invalid('invalid-measure', `${at}: maxWords must be a positive whole number`);
      }
      return;
    case 'response-frequency':
      if (!parseIsoDuration(m.every)) throw invalid('invalid-measure', `${at}: every must be a duration such as P7D`);
      if (m.weekday !== undefined && !WEEKDAYS.includes(m.weekday)) {
        throw invalid('invalid-measure', `${at}: weekday must be one of ${WEEKDAYS.join(', ')}`);
      }
      return;
    case 'new-issues-only':
      return;
    case 'other':
      if (typeof m.description !== 'string' || m.description.trim() === '') {
        throw invalid('invalid-measure', `${at}: describe the arrangement for staff`);
      }
      return;
  }
}

/**
 * Checks a proposed set of measures and dates. Throws a RuleError (kind `invalid`) with one of the codes
 * `no-measures`, `invalid-measure`, `malformed-window`, `unknown-staff`, `no-review-date`, `review-too-late`,
 * `invalid-dates`, `no-usable-channel`.
 */
export function validateMeasures(input: MeasuresInput, ctx: ValidationContext): void {
  if (!Array.isArray(input.measures) || input.measures.length === 0) {
    throw invalid('no-measures', 'A restriction needs at least one measure');
  }
  input.measures.forEach((m, i) => validateMeasure(m, i, ctx));
  if (input.singlePointOfContact !== undefined) requireStaff(input.singlePointOfContact, 'singlePointOfContact', ctx);

  if (input.reviewAt === undefined || input.reviewAt === '') {
    throw invalid('no-review-date', 'A review date is required (policy: restrictions are kept under review)');
  }
  const reviewAt = isoOrThrow(input.reviewAt, 'reviewAt') as Date;
  const startsAt = isoOrThrow(input.startsAt, 'startsAt') ?? ctx.now;
  const endsAt = isoOrThrow(input.endsAt, 'endsAt');
  if (reviewAt.getTime() <= ctx.now.getTime()) throw invalid('invalid-dates', 'reviewAt must be in the future');
  if (reviewAt.getTime() > addMonths(startsAt, ctx.maxReviewMonths).getTime()) {
    throw invalid('review-too-late', `The review date must be within ${ctx.maxReviewMonths} months of the start`);
  }
  if (endsAt && endsAt.getTime() <= startsAt.getTime()) throw invalid('invalid-dates', 'endsAt must be after startsAt');

  const adjustments = input.adjustments ?? [];
  const usable = usableChannels(input.measures, ctx.customer.needs, adjustments);
  if (usable.length === 0) {
    const blocking = needsBlocking(input.measures, ctx.customer.needs, adjustments);
    throw invalid(
      'no-usable-channel',
      `These measures leave the customer no way to contact us: their needs (${blocking.join(', ') || 'none recorded'}) ` +
        'rule out every channel the measures keep open. Keep another channel open or record a reasonable adjustment.',
    );
  }
}
