/**
 * From a restriction's transition to the letter the customer receives: which template, with what words
 * (measures in the customer's terms rather than the agents' shorthand), dated when, with which appeal
 * deadline, and in which formats their needs ask for. No I/O: the worker reads the records, this composes.
 *
 * What goes in and what stays out: the letter explains the behaviour by its category in plain words
 * (config/letter-templates.ts), never by the request's internal summary or evidence; the notes of a
 * variation, review or lifting are the reasons the tenancy specialist recorded for the customer to read, and
 * the note of an appeal's outcome the reasons the deciding manager recorded for it (policy §3, §6). The grounds
 * of an appeal, as staff recorded them, are not quoted back.
 * The contact details given are the gated ones (`WRITE_TO_EMAIL`, `WRITE_TO_ADDRESS`), so that writing to
 * the single point of contact is recorded and the arrangements keep applying.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import {
  describeBehaviour,
  restrictionAppealDismissed,
  restrictionLifted,
  restrictionNotification,
  restrictionReviewOutcome,
  restrictionVariation,
  type AppealRoute,
  type ContactPoint,
  type LetterContent,
} from '../config/letter-templates';
import type { Letter } from '../channels/letters/letter-pdf';
import { formatLongDate } from '../rules/time-format';
import { addWorkingDays } from '../rules/working-days';
import type { CallTimesMeasure, Customer, Measure, Restriction, Staff, Transition, Weekday } from '../rules/types';
import type { LifecycleSettings } from './lifecycle-deps';
import { letterIdFor, type LetterKind } from './letter-store';
import { letterKindFor } from './lifecycle-queues';

/** Needs that ask for the RNIB large-print variant (18 pt). */
export const LARGE_PRINT_NEEDS: readonly string[] = ['visual-impairment', 'large-print'];
/**
 * Needs that ask for a plain-text copy: easier to read aloud with a screen reader or to have read to you
 * than a laid-out PDF (so visual impairment asks for both).
 */
export const PLAIN_TEXT_NEEDS: readonly string[] = ['literacy-support', 'screen-reader', 'visual-impairment', 'plain-text'];

/** How a letter reaches the customer. */
export interface DeliveryPlan {
  /** The customer's address when they get letters by email too (they have one; email preferred or no preference). */
  emailTo?: string;
  largePrint: boolean;
  plainText: boolean;
  /** Languages a translation is needed in (`interpreter:<lang>` needs), for the print team. */
  translations: string[];
}

/** What the customer's record asks for: email or not, large print, plain text, translation. */
export function deliveryPlan(customer: Customer): DeliveryPlan {
  const needs = customer.needs.map((n) => n.toLowerCase());
  const email = customer.emails[0];
  const wantsEmail = customer.preferredChannel === undefined || customer.preferredChannel === 'email';
  return {
    ...(email !== undefined && wantsEmail ? { emailTo: email } : {}),
    largePrint: needs.some((n) => LARGE_PRINT_NEEDS.includes(n)),
    plainText: needs.some((n) => PLAIN_TEXT_NEEDS.includes(n)),
    translations: needs.filter((n) => n.startsWith('interpreter:')).map((n) => n.slice('interpreter:'.length)),
  };
}

/** A composed letter, ready to render. */
export interface ComposedLetter {
  id: string;
  kind: LetterKind;
  transition: Transition;
  letter: Letter;
  /** The last day an appeal is in time, when the letter offers one. */
  appealDeadline?: Date;
}

/** What {@link composeLetter} needs. */
export interface LetterInputs {
  restriction: Restriction;
  /** The letter is for the transition at `history[historyLength - 1]`. */
  historyLength: number;
  customer: Customer;
  staff: (id: string) => Staff | undefined;
  settings: LifecycleSettings;
}

/** `+443001234567` → `0300 123 4567`: how a UK customer reads and dials a number. */
export function nationalNumber(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164, 'GB');
  return parsed ? (parsed.country === 'GB' ? parsed.formatNational() : parsed.formatInternational()) : e164;
}

const PLURAL_DAYS: Record<Weekday, string> = {
  mon: 'Mondays',
  tue: 'Tuesdays',
  wed: 'Wednesdays',
  thu: 'Thursdays',
  fri: 'Fridays',
  sat: 'Saturdays',
  sun: 'Sundays',
};
const WEEK_ORDER: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "A", "A and B", "A, B and C". */
function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

/** `HH:mm` as read in a letter: "10am", "10:30am", "12 noon", "midnight". */
export function readableTime(hhmm: string): string {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  if (m === 0 && h === 12) return '12 noon';
  if (m === 0 && (h === 0 || h === 24)) return 'midnight';
  const hour = h % 12 === 0 ? 12 : h % 12;
  return `${hour}${m === 0 ? '' : `:${String(m).padStart(2, '0')}`}${h < 12 ? 'am' : 'pm'}`;
}

function describeCallTimes(m: CallTimesMeasure): string {
  const groups = new Map<string, { start: string; end: string; days: Set<Weekday> }>();
  for (const w of m.windows) {
    const key = `${w.start}-${w.end}`;
    const group = groups.get(key) ?? { start: w.start, end: w.end, days: new Set<Weekday>() };
    w.days.forEach((d) => group.days.add(d));
    groups.set(key, group);
  }
  const parts = [...groups.values()]
    .map((g) => ({ ...g, ordered: WEEK_ORDER.filter((d) => g.days.has(d)) }))
    .sort((a, b) => WEEK_ORDER.indexOf(a.ordered[0] ?? 'sun') - WEEK_ORDER.indexOf(b.ordered[0] ?? 'sun') || a.start.localeCompare(b.start))
    .map((g) => `on ${joinAnd(g.ordered.map((d) => PLURAL_DAYS[d]))} between ${readableTime(g.start)} and ${readableTime(g.end)}`);
  const holidays = (m.bankHolidays ?? 'closed') === 'closed' ? ' We cannot take your calls on bank holidays.' : '';
  // Groups carry their own "and" ("Tuesdays and Thursdays"), so the last group is set off with a comma.
  const when = parts.length > 1 ? `${parts.slice(0, -1).join(', ')}, and ${parts[parts.length - 1] ?? ''}` : (parts[0] ?? '');
  return `You can phone us ${when}. Outside these times, please write to us.${holidays}`;
}

function describeFrequency(every: string): string {
  const match = /^P(\d+)([DW])$/.exec(every);
  if (!match) return 'at set intervals';
  const days = Number(match[1]) * (match[2] === 'W' ? 7 : 1);
  if (days === 1) return 'once a day';
  if (days === 7) return 'once a week';
  if (days === 14) return 'once a fortnight';
  return `once every ${days} days`;
}

/** How the customer can write, given a written-only measure's channels. */
function writtenRoutes(channels: Array<'letter' | 'email'>, settings: LifecycleSettings): string {
  const allowed = channels.length > 0 ? channels : ['letter', 'email'];
  const routes: string[] = [];
  if (allowed.includes('letter')) routes.push(`by letter to ${settings.writeToAddress}`);
  if (allowed.includes('email')) routes.push(`by email to ${settings.writeToEmail}`);
  return routes.join(' or ');
}

/**
 * One measure in the customer's terms, e.g. "You can phone us on Tuesdays and Thursdays between 10am and
 * 12 noon." (agents see the shorthand of rules/agent-flags.ts instead).
 */
export function describeMeasureForCustomer(m: Measure, staffName: (id: string) => string, settings: LifecycleSettings): string {
  switch (m.type) {
    case 'call-times':
      return describeCallTimes(m);
    case 'named-contact':
      return (
        `${staffName(m.staffId)} will deal with your calls and enquiries.` +
        (m.deputyId ? ` When ${staffName(m.staffId)} is away, ${staffName(m.deputyId)} will help you instead.` : '')
      );
    case 'appointments-only':
      return `If you would like to visit us, please make an appointment with ${staffName(m.staffId)} first. We will not be able to see you without one.`;
    case 'written-only':
      return `Please contact us in writing only: ${writtenRoutes(m.channels, settings)}. We will not take phone calls or visits from you, except in an emergency.`;
    case 'word-limit':
      return `Please keep each letter or email to ${m.maxWords} words or fewer. We will act on the first ${m.maxWords} words only.`;
    case 'response-frequency':
      return `We will reply to your letters and emails ${describeFrequency(m.every)}${m.weekday ? `, on ${PLURAL_DAYS[m.weekday]}` : ''}, however many you send.`;
    case 'new-issues-only':
      return 'We will reply to new matters only. If you contact us again about something we have already answered, we will refer you to our earlier reply.';
    case 'other':
      return m.description;
  }
}

function addressLines(settings: LifecycleSettings): string[] {
  return settings.writeToAddress
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The written channels the restriction leaves open (a written-only measure may allow letter or email only). */
function openWrittenChannels(r: Restriction): Set<'letter' | 'email'> {
  const writtenOnly = r.measures.find((m): m is Extract<Measure, { type: 'written-only' }> => m.type === 'written-only');
  return new Set(writtenOnly && writtenOnly.channels.length > 0 ? writtenOnly.channels : ['letter', 'email']);
}

/**
 * Composes the letter for one transition.
 * @returns undefined when the transition sends no letter (request, decide, reject, appeal, exception…)
 */
export function composeLetter(inputs: LetterInputs): ComposedLetter | undefined {
  const { restriction: r, customer, settings } = inputs;
  const transition = r.history[inputs.historyLength - 1];
  if (!transition) return undefined;
  const kind = letterKindFor(transition.action);
  if (!kind) return undefined;

  const zone = settings.timeZone;
  const at = new Date(transition.at);
  const longDate = (iso: string | undefined): string | undefined => (iso ? formatLongDate(new Date(iso), zone) : undefined);
  const staffName = (id: string): string => inputs.staff(id)?.name ?? 'a member of our tenancy team';
  const spocStaff = r.singlePointOfContact ? inputs.staff(r.singlePointOfContact) : undefined;
  const open = openWrittenChannels(r);
  const address = addressLines(settings);
  const spoc: ContactPoint = {
    name: spocStaff?.name ?? settings.senderTeam,
    ...(spocStaff?.roles.includes('tenancy-specialist') ? { role: 'Tenancy Specialist' } : {}),
    ...(open.has('email') ? { email: settings.writeToEmail } : {}),
    ...(open.has('letter') ? { address } : {}),
  };
  const appealDeadline = addWorkingDays(at, settings.appealWorkingDays, zone);
  const appeal: AppealRoute = {
    deadline: formatLongDate(appealDeadline, zone),
    writeTo: { name: settings.appealsAddressee, address, email: settings.writeToEmail },
  };
  const emergencyNumber = nationalNumber(settings.emergencyNumber);
  const measures = r.measures.map((m) => describeMeasureForCustomer(m, staffName, settings));
  const adjustments = r.adjustments.map((a) => a.arrangement);
  const today = formatLongDate(at, zone);
  const reviewOn = longDate(r.reviewAt) ?? today;
  const endsOn = longDate(r.endsAt);
  const note = transition.note?.trim() ?? '';
  const common = { emergencyNumber, privacyNoticeUrl: settings.privacyNoticeUrl };

  let content: LetterContent;
  let offersAppeal = true;
  switch (transition.action) {
    case 'approve':
      content = restrictionNotification({
        behaviour: describeBehaviour(r.category),
        warningsOn: r.warnings.map((w) => formatLongDate(new Date(w.date), zone)),
        measures,
        startsOn: longDate(r.startsAt) ?? today,
        reviewOn,
        ...(endsOn ? { endsOn } : {}),
        singlePointOfContact: spoc,
        adjustments,
        appeal,
        ...common,
      });
      break;
    case 'vary':
    case 'appeal:varied':
      content = restrictionVariation({
        reason: transition.action === 'appeal:varied' ? `We have considered your appeal and decided to change the arrangements. ${note}`.trim() : note,
        measures,
        effectiveOn: today,
        reviewOn,
        ...(endsOn ? { endsOn } : {}),
        singlePointOfContact: spoc,
        adjustments,
        appeal,
        ...common,
      });
      break;
    case 'review:continue':
    case 'review:vary':
    case 'review:lift': {
      const outcome = transition.action.slice('review:'.length) as 'continue' | 'vary' | 'lift';
      offersAppeal = outcome !== 'lift';
      content = restrictionReviewOutcome({
        outcome,
        reviewedOn: today,
        reason: note,
        ...(outcome === 'lift' ? {} : { measures, nextReviewOn: reviewOn, appeal, ...(endsOn ? { endsOn } : {}) }),
        singlePointOfContact: spoc,
        ...common,
      });
      break;
    }
    case 'appeal:dismissed': {
      // The appeal the transition decided (a later appeal may have replaced the record since: then its date is left out).
      const decided = r.appeal?.decidedAt !== undefined && Date.parse(r.appeal.decidedAt) === at.getTime() ? r.appeal : undefined;
      offersAppeal = false;
      content = restrictionAppealDismissed({
        ...(decided && Number.isFinite(Date.parse(decided.receivedAt)) ? { receivedOn: formatLongDate(new Date(decided.receivedAt), zone) } : {}),
        decidedOn: today,
        reason: note,
        measures,
        reviewOn,
        ...(endsOn ? { endsOn } : {}),
        singlePointOfContact: spoc,
        adjustments,
        complaintsTo: { name: settings.senderTeam, address, email: settings.writeToEmail },
        ...common,
      });
      break;
    }
    default: {
      // lift, appeal:upheld, expire: the arrangements have ended.
      offersAppeal = false;
      const reason =
        transition.action === 'expire'
          ? 'They have come to the end date we set when we made them.'
          : transition.action === 'appeal:upheld'
            ? `We have considered your appeal and agreed with it. ${note}`.trim()
            : note;
      content = restrictionLifted({ liftedOn: today, ...(reason ? { reason } : {}), singlePointOfContact: spoc, ...common });
    }
  }

  const letter: Letter = {
    to: { name: customer.name },
    date: today,
    reference: r.id,
    title: content.title,
    paragraphs: content.paragraphs,
    from: { name: spoc.name, team: settings.senderTeam, address },
  };
  return {
    id: letterIdFor(r.id, inputs.historyLength),
    kind,
    transition,
    letter,
    ...(offersAppeal ? { appealDeadline } : {}),
  };
}
