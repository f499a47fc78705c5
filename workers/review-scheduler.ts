/**
 * The daily sweep (policy §5: restrictions are kept under continued review; DESIGN.md §2: only `endsAt`,
 * lifting or rejection end enforcement, an overdue review escalates):
 *
 * 1. expires active restrictions past `endsAt` (saved, so the store refreshes the gate snapshot and the flags
 *    disappear; audited; the customer's letter queued);
 * 2. reminds the tenancy specialist (the decider, else the single point of contact) 14 days before a review
 *    date and on it;
 * 3. escalates overdue reviews to every ts-manager, in one message a day;
 * 4. queues any letter of the last days that has neither been sent nor queued (the transition hook never
 *    fails a request, so a letter it could not queue is picked up here).
 *
 * Every step is a plain function of `now`, called by the BullMQ job with the time it runs and by tests with
 * any time they like. Each notice goes once: the sweep skips notices the NoticeLog has, and queues the rest
 * under deterministic job ids, so two sweeps on the same day queue each once.
 */
import { DateTime } from 'luxon';
import { expireIfDue, transitionAuditDetails } from '../rules/lifecycle';
import { formatLongDate } from '../rules/time-format';
import type { Restriction, Staff } from '../rules/types';
import { ConflictError } from '../store/errors';
import { NoRecipientsError, type LifecycleDeps, type StaffMessage } from './lifecycle-deps';
import { enqueueLetter, enqueueNotice, letterKindFor, type StaffNotice } from './lifecycle-queues';
import { letterIdFor } from './letter-store';

/** How far back the sweep looks for letters that were never queued. */
export const MISSING_LETTER_LOOKBACK_DAYS = 7;

/** What one sweep did, for logs and tests. */
export interface SweepResult {
  /** Restrictions expired. */
  expired: string[];
  /** Notice ids queued (reminders and the escalation). */
  noticesQueued: string[];
  /** Restrictions whose review is overdue. */
  overdue: string[];
  /** Letter ids queued because no letter was recorded for them. */
  lettersQueued: string[];
}

/** The local calendar date (`YYYY-MM-DD`) of an instant in `zone`. */
export function localDate(at: Date | string, zone: string): string {
  const t = DateTime.fromJSDate(typeof at === 'string' ? new Date(at) : at, { zone });
  return t.toISODate() ?? '';
}

/** Whole calendar days from local date `from` to local date `to` (negative when `to` is earlier). */
function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days);
}

/** A restriction id as part of a notice id (NoticeLog ids allow `%`-encoding). */
export function noticePart(id: string): string {
  return encodeURIComponent(id);
}

/** The staff directory, by id. */
export async function staffDirectory(deps: Pick<LifecycleDeps, 'store'>): Promise<Map<string, Staff>> {
  return new Map((await deps.store.staff.list()).map((s) => [s.id, s]));
}

/** Every ts-manager with an address. */
export function tsManagers(staff: Map<string, Staff>): Staff[] {
  return [...staff.values()].filter((s) => s.roles.includes('ts-manager') && s.email !== '').sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Who runs the case: the tenancy specialist who decided it, else its single point of contact, else (when
 * neither is on record with an address any more) the ts-managers, so a reminder is never dropped.
 */
export function caseOwners(r: Restriction, staff: Map<string, Staff>): Staff[] {
  for (const id of [r.decidedBy, r.singlePointOfContact]) {
    const s = id ? staff.get(id) : undefined;
    if (s && s.email !== '') return [s];
  }
  return tsManagers(staff);
}

/** The addresses of `people`, or NoRecipientsError. */
export function addressesOf(people: Staff[], what: string): string[] {
  const to = [...new Set(people.map((s) => s.email).filter((e) => e !== ''))];
  if (to.length === 0) throw new NoRecipientsError(what);
  return to;
}

/**
 * Expires every active restriction past its `endsAt`, saving each (which refreshes the customer's gate
 * snapshot), auditing it and queuing the customer's letter. A restriction changed meanwhile by someone else
 * is left for the next sweep.
 * @returns the ids expired
 */
export async function expireDue(deps: Pick<LifecycleDeps, 'store' | 'queues' | 'logger'>, now: Date): Promise<string[]> {
  const expired: string[] = [];
  for (const r of await deps.store.restrictions.listByStatus('active')) {
    const next = expireIfDue(r, now);
    if (!next) continue;
    try {
      await deps.store.restrictions.save(next, r.history.length);
    } catch (err) {
      if (err instanceof ConflictError) continue;
      throw err;
    }
    const details = transitionAuditDetails(next.history.at(-1));
    await deps.store.audit.append({ actor: 'system', action: 'restriction.expire', entity: 'restriction', entityId: r.id, at: now.toISOString(), ...(details ? { details } : {}) });
    await enqueueLetter(deps.queues, next);
    expired.push(r.id);
  }
  if (expired.length > 0) deps.logger.info('expired restrictions past their end date', { count: expired.length, restrictionIds: expired });
  return expired;
}

/**
 * Queues the letters of transitions in the last {@link MISSING_LETTER_LOOKBACK_DAYS} days that have no
 * record. A letter whose job is still queued, or finished without sending (its job id is kept), is not
 * queued twice.
 */
export async function queueMissingLetters(deps: Pick<LifecycleDeps, 'store' | 'queues' | 'letters'>, now: Date): Promise<string[]> {
  const since = now.getTime() - MISSING_LETTER_LOOKBACK_DAYS * 86_400_000;
  const queued: string[] = [];
  for (const status of ['active', 'lifted', 'expired'] as const) {
    for (const r of await deps.store.restrictions.listByStatus(status)) {
      const due = r.history
        .map((step, i) => ({ step, length: i + 1 }))
        .filter(({ step }) => letterKindFor(step.action) !== undefined && Date.parse(step.at) >= since && Date.parse(step.at) <= now.getTime());
      if (due.length === 0) continue;
      const sent = new Set((await deps.letters.list(r.customerId, r.id)).map((l) => l.id));
      for (const { length } of due) {
        const id = letterIdFor(r.id, length);
        if (sent.has(id)) continue;
        await enqueueLetter(deps.queues, r, length);
        queued.push(id);
      }
    }
  }
  return queued;
}

/** Queues a notice unless it was sent. */
async function queueOnce(deps: Pick<LifecycleDeps, 'queues' | 'notices'>, notice: StaffNotice, queued: string[]): Promise<void> {
  if (await deps.notices.wasSent(notice.noticeId)) return;
  await enqueueNotice(deps.queues, notice);
  queued.push(notice.noticeId);
}

/**
 * Review reminders and the overdue escalation for `now`'s local date.
 * @returns the notice ids queued and the overdue restriction ids
 */
export async function queueReviewNotices(deps: Pick<LifecycleDeps, 'store' | 'queues' | 'notices' | 'settings'>, now: Date): Promise<{ noticesQueued: string[]; overdue: string[] }> {
  const zone = deps.settings.timeZone;
  const today = localDate(now, zone);
  const noticesQueued: string[] = [];
  const overdue: string[] = [];
  for (const r of await deps.store.restrictions.listByStatus('active')) {
    if (!r.reviewAt) continue;
    const reviewDate = localDate(r.reviewAt, zone);
    const daysUntil = daysBetween(today, reviewDate);
    const ref = { restrictionId: r.id, customerId: r.customerId, reviewDate };
    if (daysUntil > 0 && daysUntil <= deps.settings.reviewReminderDays) {
      // Sent on the 14th day before, or on the first sweep after a review date was set closer than that.
      await queueOnce(deps, { kind: 'review-upcoming', noticeId: `review-upcoming.${noticePart(r.id)}.${reviewDate}`, ...ref }, noticesQueued);
    } else if (daysUntil === 0) {
      await queueOnce(deps, { kind: 'review-due', noticeId: `review-due.${noticePart(r.id)}.${reviewDate}`, ...ref }, noticesQueued);
    } else if (daysUntil < 0) {
      overdue.push(r.id);
    }
  }
  if (overdue.length > 0) {
    await queueOnce(deps, { kind: 'reviews-overdue', noticeId: `reviews-overdue.${today}`, date: today, restrictionIds: overdue.sort() }, noticesQueued);
  }
  return { noticesQueued, overdue };
}

/**
 * The daily sweep: expiry, review reminders, overdue escalation, missed letters (see the file comment).
 * @param now the time of the sweep; its local date decides which reminders are due
 */
export async function runDailySweep(deps: LifecycleDeps, now: Date): Promise<SweepResult> {
  const expired = await expireDue(deps, now);
  const { noticesQueued, overdue } = await queueReviewNotices(deps, now);
  const lettersQueued = await queueMissingLetters(deps, now);
  deps.logger.info('daily sweep done', { expired: expired.length, notices: noticesQueued.length, overdue: overdue.length, letters: lettersQueued.length });
  return { expired, noticesQueued, overdue, lettersQueued };
}

function consoleLink(deps: Pick<LifecycleDeps, 'settings'>): string {
  return `${deps.settings.publicUrl}/console`;
}

/**
 * The reminder to the case owner that a review is coming or due today; `undefined` when it no longer
 * applies (the restriction ended, or its review date moved since the reminder was queued).
 */
export async function composeReviewReminder(
  deps: Pick<LifecycleDeps, 'store' | 'settings'>,
  notice: Extract<StaffNotice, { kind: 'review-upcoming' | 'review-due' }>,
): Promise<StaffMessage | undefined> {
  const zone = deps.settings.timeZone;
  const r = await deps.store.restrictions.get(notice.restrictionId);
  if (!r || r.status !== 'active' || !r.reviewAt || localDate(r.reviewAt, zone) !== notice.reviewDate) return undefined;
  const [staff, customer] = await Promise.all([staffDirectory(deps), deps.store.customers.get(r.customerId)]);
  const to = addressesOf(caseOwners(r, staff), 'review reminder');
  const when = formatLongDate(new Date(r.reviewAt), zone);
  const who = customer ? `${customer.name} (${r.customerId})` : r.customerId;
  const subject =
    notice.kind === 'review-due' ? `Review due today: restriction ${r.id} (${r.customerId})` : `Review due on ${when}: restriction ${r.id} (${r.customerId})`;
  const text = [
    notice.kind === 'review-due'
      ? `The restriction ${r.id} on the contact of ${who} is due for review today, ${when}.`
      : `The restriction ${r.id} on the contact of ${who} is due for review on ${when}.`,
    'The policy asks that restrictions are kept under review and lifted or eased as soon as they are no longer needed. Record the review (continue, vary or lift, with your reasons and the next review date) in the console:',
    `${consoleLink(deps)} — search for ${r.customerId}.`,
    'A review not recorded by its date is escalated to the ts-managers every day until it is. The restriction stays in force meanwhile.',
  ].join('\n\n');
  return { to, subject, text };
}

/**
 * The day's escalation of overdue reviews to every ts-manager; `undefined` when none is overdue any more.
 */
export async function composeOverdueEscalation(
  deps: Pick<LifecycleDeps, 'store' | 'settings'>,
  notice: Extract<StaffNotice, { kind: 'reviews-overdue' }>,
): Promise<StaffMessage | undefined> {
  const zone = deps.settings.timeZone;
  const staff = await staffDirectory(deps);
  const lines: string[] = [];
  for (const id of notice.restrictionIds) {
    const r = await deps.store.restrictions.get(id);
    if (!r || r.status !== 'active' || !r.reviewAt) continue;
    const reviewDate = localDate(r.reviewAt, zone);
    const late = daysBetween(reviewDate, notice.date);
    if (late <= 0) continue;
    const owner = caseOwners(r, staff)[0];
    lines.push(
      `• ${r.id} — customer ${r.customerId}: review was due on ${formatLongDate(new Date(r.reviewAt), zone)}, ${late} day${late === 1 ? '' : 's'} ago` +
        (owner ? `; tenancy specialist: ${owner.name}` : ''),
    );
  }
  if (lines.length === 0) return undefined;
  const to = addressesOf(tsManagers(staff), 'overdue review escalation');
  const text = [
    `${lines.length} restriction review${lines.length === 1 ? ' is' : 's are'} overdue as of ${formatLongDate(DateTime.fromISO(notice.date, { zone }).plus({ hours: 12 }).toJSDate(), zone)}:`,
    lines.join('\n'),
    'The restrictions stay in force, but the policy asks that each is reviewed by its date. Please make sure the reviews are done and recorded:',
    consoleLink(deps),
    'This escalation is sent every day while a review is overdue.',
  ].join('\n\n');
  return { to, subject: `Overdue restriction reviews: ${lines.length}`, text };
}
