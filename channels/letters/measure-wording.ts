/**
 * Each measure of a restriction in plain English for the customer's letters ("You can phone us on Tuesdays
 * and Thursdays between 10am and 12 noon."), as the notification must explain "each restriction in plain
 * English". Agents see terser flags (rules/agent-flags.ts); a customer reads whole sentences, 12-hour times
 * and full day names.
 */
import type { CallWindow, Measure, StaffRef, Weekday } from '../../rules/types';

const DAY_PLURALS: Record<Weekday, string> = {
  mon: 'Mondays',
  tue: 'Tuesdays',
  wed: 'Wednesdays',
  thu: 'Thursdays',
  fri: 'Fridays',
  sat: 'Saturdays',
  sun: 'Sundays',
};
const DAY_ORDER: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "A", "A and B", "A, B and C". */
export function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

/** A wall-clock "HH:mm" the way a letter says it: "10am", "2.30pm", "12 noon", "midnight". */
export function clockTime(hhmm: string): string {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  if (h === 12 && m === 0) return '12 noon';
  if ((h === 0 || h === 24) && m === 0) return 'midnight';
  const hour12 = h % 12 === 0 ? 12 : h % 12;
  const minutes = m === 0 ? '' : `.${String(m).padStart(2, '0')}`;
  return `${hour12}${minutes}${h < 12 ? 'am' : 'pm'}`;
}

function describeWindows(windows: CallWindow[]): string {
  // Windows with the same hours are said together, so "Tue 10–12, Thu 10–12" reads as one sentence.
  const byHours = new Map<string, { start: string; end: string; days: Set<Weekday> }>();
  for (const w of windows) {
    const key = `${w.start}-${w.end}`;
    const group = byHours.get(key) ?? { start: w.start, end: w.end, days: new Set<Weekday>() };
    w.days.forEach((d) => group.days.add(d));
    byHours.set(key, group);
  }
  const parts = [...byHours.values()]
    .map((g) => ({ ...g, days: DAY_ORDER.filter((d) => g.days.has(d)) }))
    .sort((a, b) => DAY_ORDER.indexOf(a.days[0] ?? 'sun') - DAY_ORDER.indexOf(b.days[0] ?? 'sun'))
    .map((g) => `on ${joinAnd(g.days.map((d) => DAY_PLURALS[d]))} between ${clockTime(g.start)} and ${clockTime(g.end)}`);
  return joinAnd(parts);
}

function frequency(every: string): string {
  const match = /^P(?:(\d+)W|(\d+)D)$/i.exec(every);
  const days = match ? (match[1] ? Number(match[1]) * 7 : Number(match[2])) : undefined;
  if (days === 1) return 'once a day';
  if (days === 7) return 'once a week';
  if (days === 14) return 'once every two weeks';
  if (days !== undefined && days % 7 === 0) return `once every ${days / 7} weeks`;
  if (days !== undefined) return `once every ${days} days`;
  return 'at set intervals';
}

function channelsInWords(channels: Array<'letter' | 'email'>): string {
  const words = channels.length === 0 ? ['letter', 'email'] : channels.map((c) => (c === 'letter' ? 'letter' : 'email'));
  return joinAnd(words.map((w) => `by ${w}`)).replace(' and by ', ' or by ');
}

/**
 * One measure as a sentence (or two) for the customer.
 *
 * @param staff display data of the staff named in measures; an unknown id is shown as it is.
 */
export function describeMeasureForCustomer(measure: Measure, staff: Record<string, StaffRef>): string {
  const name = (id: string): string => staff[id]?.name ?? id;
  switch (measure.type) {
    case 'call-times': {
      const holidays = (measure.bankHolidays ?? 'closed') === 'closed' ? ', or on bank holidays' : '';
      return `You can phone us ${describeWindows(measure.windows)}. We will not take your calls at other times${holidays}.`;
    }
    case 'named-contact':
      return (
        `${name(measure.staffId)} will deal with your calls and correspondence` +
        (measure.deputyId ? `, or ${name(measure.deputyId)} when ${name(measure.staffId)} is away.` : '.')
      );
    case 'appointments-only':
      return `If you want to see us in person, please make an appointment to see ${name(measure.staffId)}. We will not be able to see you without an appointment.`;
    case 'written-only':
      return `Please contact us only in writing, ${channelsInWords(measure.channels)}. We will not take phone calls from you, except to report an emergency.`;
    case 'word-limit':
      return `Please keep each letter or email to no more than ${measure.maxWords} words. We will act on the first ${measure.maxWords} words only.`;
    case 'response-frequency':
      return `We will reply to your letters and emails ${frequency(measure.every)}${measure.weekday ? `, on ${DAY_PLURALS[measure.weekday]}` : ''}, however many you send.`;
    case 'new-issues-only':
      return 'We will only reply about new matters. If you contact us about something we have already answered, we will let you know we have received it and refer you to our earlier reply.';
    case 'other':
      return measure.description;
  }
}

/** Every measure of a restriction as sentences for the customer, in the order they were decided. */
export function describeMeasuresForCustomer(measures: Measure[], staff: Record<string, StaffRef>): string[] {
  return measures.map((m) => describeMeasureForCustomer(m, staff));
}
