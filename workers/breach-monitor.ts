/**
 * The breach monitor: when the contacts that breached a restriction (recorded with `breach: true`) reach the
 * configured threshold within the period (default 5 in 30 days), the tenancy specialist is told, with the
 * suggestion to consider Legal Services or an ASB / tenancy-breach case. Nothing is done automatically: what
 * to do about repeated breaches is a judgement the policy leaves to people.
 *
 * A notice goes at most once per period for a restriction: its NoticeLog marker lives for the period.
 */
import { formatLongDate } from '../rules/time-format';
import type { LifecycleDeps, StaffMessage } from './lifecycle-deps';
import { enqueueNotice, type StaffNotice } from './lifecycle-queues';
import { addressesOf, caseOwners, localDate, noticePart, staffDirectory } from './review-scheduler';

/** A restriction over the threshold. */
export interface BreachFinding {
  restrictionId: string;
  breaches: number;
  /** Whether a notice was queued (false: one was sent within the period already). */
  queued: boolean;
}

/** The notice id of a restriction's breach notice: one per restriction, its marker expiring after the period. */
export function breachNoticeId(restrictionId: string): string {
  return `breach-threshold.${noticePart(restrictionId)}`;
}

/**
 * Counts each active restriction's breaches over the period ending at `now` and queues a notice for those at
 * or over the threshold that have not had one within the period.
 */
export async function runBreachMonitor(deps: Pick<LifecycleDeps, 'store' | 'queues' | 'notices' | 'settings' | 'logger'>, now: Date): Promise<BreachFinding[]> {
  const { breachThreshold, breachPeriodDays, timeZone } = deps.settings;
  const since = new Date(now.getTime() - breachPeriodDays * 86_400_000).toISOString();
  const findings: BreachFinding[] = [];
  for (const r of await deps.store.restrictions.listByStatus('active')) {
    // The store counts from an instant onwards; the period ends at `now`, so later ones are taken off.
    const [fromStart, afterNow] = await Promise.all([
      deps.store.contacts.breachCount(r.customerId, r.id, since),
      deps.store.contacts.breachCount(r.customerId, r.id, new Date(now.getTime() + 1).toISOString()),
    ]);
    const breaches = fromStart - afterNow;
    if (breaches < breachThreshold) continue;
    const notice: StaffNotice = { kind: 'breach-threshold', noticeId: breachNoticeId(r.id), restrictionId: r.id, customerId: r.customerId, breaches, since };
    const queued = !(await deps.notices.wasSent(notice.noticeId));
    // The day in the job id: a notice that failed for good does not block the next day's attempt.
    if (queued) await enqueueNotice(deps.queues, notice, localDate(now, timeZone));
    findings.push({ restrictionId: r.id, breaches, queued });
  }
  if (findings.length > 0) deps.logger.info('restrictions over the breach threshold', { count: findings.length, queued: findings.filter((f) => f.queued).length });
  return findings;
}

/** The breach notice to the case owner; `undefined` when the restriction is no longer active. */
export async function composeBreachNotice(
  deps: Pick<LifecycleDeps, 'store' | 'settings'>,
  notice: Extract<StaffNotice, { kind: 'breach-threshold' }>,
): Promise<StaffMessage | undefined> {
  const r = await deps.store.restrictions.get(notice.restrictionId);
  if (!r || r.status !== 'active') return undefined;
  const [staff, customer] = await Promise.all([staffDirectory(deps), deps.store.customers.get(r.customerId)]);
  const to = addressesOf(caseOwners(r, staff), 'breach notice');
  const who = customer ? `${customer.name} (${r.customerId})` : r.customerId;
  const since = formatLongDate(new Date(notice.since), deps.settings.timeZone);
  const text = [
    `${who} has breached the restriction ${r.id} ${notice.breaches} times since ${since} (the threshold is ${deps.settings.breachThreshold} in ${deps.settings.breachPeriodDays} days).`,
    'You may want to consider whether to refer the case to Legal Services, or to open an ASB or tenancy-breach case. Gatekeeper has taken no action: this is for your judgement, in line with the policy.',
    `The contact history and breach count are in the console: ${deps.settings.publicUrl}/console — search for ${r.customerId}.`,
    `You will not be sent another breach notice for this restriction for ${deps.settings.breachPeriodDays} days.`,
  ].join('\n\n');
  return { to, subject: `Repeated breaches: restriction ${r.id} (${r.customerId}), ${notice.breaches} in ${deps.settings.breachPeriodDays} days`, text };
}
