/**
 * Plain-English flags for agents: what a restriction means for the contact in front of them. Flags carry
 * the terms only — never the reason, the summary or the evidence (policy: agents need to know what to do,
 * not why).
 */
import { windowStatus } from './call-windows';
import { describeWindows, formatShortLocal, formatShortLocalEnd } from './time-format';
import type { EnforcedRestriction, Measure, StaffRef } from './types';

/** The flag that is always shown: emergencies can never be restricted. */
export const EMERGENCY_FLAG = 'Emergencies are always put through, whatever the restriction';

/**
 * Shown when the restriction, with the customer's needs as recorded now, leaves them no way in
 * (`leavesNoUsableChannel`): the gate then lets their calls and visits through, and it must be reviewed.
 */
export const NO_USABLE_CHANNEL_FLAG = "Review now: with this customer's needs as recorded, the restriction leaves them no way to contact us — calls and visits are let through meanwhile";

function staffName(staff: Record<string, StaffRef>, id: string): string {
  return staff[id]?.name ?? id;
}

const WEEKDAY_NAMES: Record<string, string> = {
  mon: 'Mondays',
  tue: 'Tuesdays',
  wed: 'Wednesdays',
  thu: 'Thursdays',
  fri: 'Fridays',
  sat: 'Saturdays',
  sun: 'Sundays',
};

function describeFrequency(every: string): string {
  const m = /^P(\d+)([DW])$/.exec(every);
  if (!m) return `every ${every}`;
  const n = Number(m[1]) * (m[2] === 'W' ? 7 : 1);
  if (n === 1) return 'daily';
  if (n === 7) return 'weekly';
  if (n === 14) return 'fortnightly';
  return `every ${n} days`;
}

/**
 * The flag for one measure, in the words of the contract's example (DESIGN.md §3): "Calls Tue & Thu
 * 10:00–12:00 only", "Named contact: J Smith". What else an agent needs about the measure (the next call
 * window, the deputy) is a flag of its own ({@link measureDetails}), so these stay exactly as documented.
 */
export function describeMeasure(m: Measure, staff: Record<string, StaffRef>): string {
  switch (m.type) {
    case 'call-times':
      return `Calls ${describeWindows(m)} only${m.bankHolidays === 'open' ? ', bank holidays included' : ''}`;
    case 'named-contact':
      return `Named contact: ${staffName(staff, m.staffId)}`;
    case 'appointments-only':
      return `Visits by appointment only, with ${staffName(staff, m.staffId)}`;
    case 'written-only': {
      const channels = m.channels.length > 0 ? m.channels : ['letter', 'email'];
      return `Written contact only: ${channels.join(' or ')} — no calls or visits`;
    }
    case 'word-limit':
      return `Word limit: ${m.maxWords} words per letter or email; only the first ${m.maxWords} are actioned`;
    case 'response-frequency':
      return `Responses ${describeFrequency(m.every)}${m.weekday ? ` on ${WEEKDAY_NAMES[m.weekday]}` : ''}, however many messages arrive`;
    case 'new-issues-only':
      return 'New issues only: repeated matters are referred to our previous response';
    case 'other':
      return m.description;
  }
}

/** The flags that follow a measure's own: whether a call window is open now (else when the next opens), and who stands in for the named contact. */
function measureDetails(m: Measure, staff: Record<string, StaffRef>, now: Date, zone: string): string[] {
  switch (m.type) {
    case 'call-times': {
      const details = (m.bankHolidays ?? 'closed') === 'closed' ? ['No calls on bank holidays'] : [];
      // Inside a window the agent needs to know the call is allowed and for how long, not when the window
      // after this one opens (a "next window" flag read during an open window looked like a breach). Said
      // with its date and no "now": flags are also kept with messages and read later (forwards, digests).
      const status = windowStatus(m, now, zone);
      if (status.open) details.push(`Call window open until ${formatShortLocalEnd(status.closesAt, zone)}`);
      else if (status.next) details.push(`Next call window: ${formatShortLocal(status.next.start, zone)}`);
      return details;
    }
    case 'named-contact':
      return m.deputyId ? [`Deputy for ${staffName(staff, m.staffId)}: ${staffName(staff, m.deputyId)}`] : [];
    default:
      return [];
  }
}

/**
 * All flags for a customer's enforced restrictions at `now`, including agreed adjustments, live one-off exceptions, an open
 * appeal and the emergency rule.
 * @param noUsableChannel the restrictions leave the customer no usable channel with their needs as recorded
 *   now (rules/validation.ts `leavesNoUsableChannel`): the flags say so ({@link NO_USABLE_CHANNEL_FLAG}).
 */
export function restrictionFlags(
  restrictions: EnforcedRestriction[],
  staff: Record<string, StaffRef>,
  now: Date,
  zone: string,
  noUsableChannel = false,
): string[] {
  // The measures' own flags first, in order, as the contract shows them; then the details and the rest.
  const flags: string[] = restrictions.flatMap((r) => r.measures.map((m) => describeMeasure(m, staff)));
  for (const r of restrictions) {
    for (const m of r.measures) flags.push(...measureDetails(m, staff, now, zone));
    // The arrangement only (what to do), not the need behind it: agents already see the recorded needs, and
    // an adjustment that the agent does not know about (a support worker calling on the customer's behalf,
    // say) is one the contact centre breaks.
    for (const a of r.adjustments) flags.push(`Adjustment agreed: ${a.arrangement}`);
    if (r.singlePointOfContact && !r.measures.some((m) => m.type === 'named-contact')) {
      flags.push(`Single point of contact: ${staffName(staff, r.singlePointOfContact)}`);
    }
    for (const e of r.exceptions) {
      const from = new Date(e.from).getTime();
      const until = new Date(e.until).getTime();
      if (until <= now.getTime()) continue;
      const when = from > now.getTime() ? `from ${formatShortLocal(new Date(e.from), zone)} ` : '';
      flags.push(`One-off exception: ${e.channel} to ${staffName(staff, e.staffId)} ${when}until ${formatShortLocal(new Date(e.until), zone)}`);
    }
    if (r.appealed) flags.push('Under appeal — the restriction still applies');
  }
  if (noUsableChannel) flags.push(NO_USABLE_CHANNEL_FLAG);
  if (flags.length > 0) flags.push(EMERGENCY_FLAG);
  return flags;
}
