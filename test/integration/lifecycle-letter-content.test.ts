/**
 * What goes into the lifecycle letters, without Redis or mail: the customer-facing wording of measures,
 * the delivery plan a customer's record asks for, and the parts every letter must carry (property-based
 * where the input space is wide).
 */
import fc from 'fast-check';
import { renderLetterText } from '../../channels/letters/letter-pdf';
import { loadConfig } from '../../config/env';
import type { Customer, Restriction, Staff, Weekday } from '../../rules/types';
import { lifecycleSettingsFromConfig } from '../../workers/lifecycle-deps';
import { letterKindFor } from '../../workers/lifecycle-queues';
import { composeLetter, deliveryPlan, describeMeasureForCustomer, nationalNumber, readableTime } from '../../workers/notification-letters';

const settings = lifecycleSettingsFromConfig(
  loadConfig({ NODE_ENV: 'test', EMERGENCY_NUMBER: '+443001234567', PUBLIC_URL: 'https://gatekeeper.example.org', PRIVACY_NOTICE_URL: 'https://landlord.example/privacy-notice', WRITE_TO_EMAIL: 'housing@landlord.example' }),
);
const DAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const PLURAL = ['Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays', 'Sundays'];

describe('times and measures in the customer’s words', () => {
  it('reads every clock time back to the same minute', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), (h, m) => {
        const text = readableTime(`${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
        if (text === '12 noon') return h === 12 && m === 0;
        if (text === 'midnight') return h === 0 && m === 0;
        const match = /^(\d{1,2})(?::(\d{2}))?(am|pm)$/.exec(text);
        if (!match) return false;
        const hour = (Number(match[1]) % 12) + (match[3] === 'pm' ? 12 : 0);
        return hour === h && Number(match[2] ?? 0) === m;
      }),
    );
  });

  it('names exactly the days a call-times measure allows', () => {
    fc.assert(
      fc.property(fc.subarray(DAYS, { minLength: 1 }), (days) => {
        const text = describeMeasureForCustomer({ type: 'call-times', windows: [{ days, start: '09:30', end: '11:00' }] }, (id) => id, settings);
        return DAYS.every((d, i) => text.includes(PLURAL[i] ?? '?') === days.includes(d)) && text.includes('between 9:30am and 11am');
      }),
    );
  });

  it('describes each kind of measure plainly', () => {
    const name = (id: string) => ({ jsmith: 'Jo Smith', akhan: 'Ali Khan' })[id] ?? id;
    expect(describeMeasureForCustomer({ type: 'written-only', channels: ['email'] }, name, settings)).toBe(
      'Please contact us in writing only: by email to housing@landlord.example. We will not take phone calls or visits from you, except in an emergency.',
    );
    expect(describeMeasureForCustomer({ type: 'response-frequency', every: 'P14D', weekday: 'fri' }, name, settings)).toBe(
      'We will reply to your letters and emails once a fortnight, on Fridays, however many you send.',
    );
    expect(describeMeasureForCustomer({ type: 'appointments-only', staffId: 'jsmith' }, name, settings)).toContain('make an appointment with Jo Smith first');
    expect(
      describeMeasureForCustomer(
        { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }, { days: ['mon'], start: '14:00', end: '16:00' }], bankHolidays: 'open' },
        name,
        settings,
      ),
    ).toBe('You can phone us on Mondays between 2pm and 4pm, and on Tuesdays and Thursdays between 10am and 12 noon. Outside these times, please write to us.');
    expect(nationalNumber('+443001234567')).toBe('0300 123 4567');
  });
});

describe('the delivery plan', () => {
  const customer = (patch: Partial<Customer>): Customer => ({ id: 'C1', name: 'Pat', phones: [], emails: [], needs: [], ...patch });

  it('emails only customers with an address who prefer email or have no preference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.emailAddress(), { maxLength: 2 }),
        fc.constantFrom(undefined, 'email', 'letter', 'voice', 'visit'),
        (emails, preferredChannel) => {
          const plan = deliveryPlan(customer({ emails, ...(preferredChannel ? { preferredChannel: preferredChannel as Customer['preferredChannel'] } : {}) }));
          const expected = emails.length > 0 && (preferredChannel === undefined || preferredChannel === 'email');
          return (plan.emailTo !== undefined) === expected && (!expected || plan.emailTo === emails[0]);
        },
      ),
    );
  });

  it('asks for large print, plain text and translations from the customer’s needs', () => {
    expect(deliveryPlan(customer({ needs: ['visual-impairment'] }))).toMatchObject({ largePrint: true, plainText: true, translations: [] });
    expect(deliveryPlan(customer({ needs: ['literacy-support', 'interpreter:pl'] }))).toMatchObject({ largePrint: false, plainText: true, translations: ['pl'] });
    expect(deliveryPlan(customer({ needs: ['hearing-impairment'] }))).toMatchObject({ largePrint: false, plainText: false, translations: [] });
  });
});

describe('every letter', () => {
  const staff: Record<string, Staff> = { jsmith: { id: 'jsmith', name: 'Jo Smith', email: 'jo@staff.example', roles: ['tenancy-specialist'] } };
  const base: Restriction = {
    id: 'R1',
    customerId: 'C1',
    status: 'active',
    category: 'multiple-unsubstantiated',
    summary: 'INTERNAL NOTE',
    evidence: [{ type: 'file', reference: 'EVIDENCE-1' }],
    authorisedBy: 'mia',
    warnings: [],
    noWarningReason: 'x',
    requestedBy: 'sam',
    requestedAt: '2026-11-01T09:00:00Z',
    decidedBy: 'tess',
    measures: [{ type: 'new-issues-only' }],
    startsAt: '2026-11-25T10:00:00Z',
    reviewAt: '2027-02-01T10:00:00Z',
    singlePointOfContact: 'jsmith',
    adjustments: [],
    exceptions: [],
    appealed: false,
    reviews: [],
    history: [],
  };
  const ACTIONS = ['approve', 'vary', 'appeal:varied', 'review:continue', 'review:vary', 'review:lift', 'lift', 'appeal:upheld', 'expire', 'request', 'decide', 'reject', 'appeal', 'appeal:dismissed', 'exception'];

  it('carries the emergency number and the privacy notice, and never the internal summary or evidence', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ACTIONS), fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true }), (action, at) => {
        const r: Restriction = { ...base, history: [{ action, from: 'active', to: 'active', by: 'tess', at: at.toISOString(), note: 'Reason for the customer.' }] };
        const composed = composeLetter({ restriction: r, historyLength: 1, customer: { id: 'C1', name: 'Pat', phones: [], emails: [], needs: [] }, staff: (id) => staff[id], settings });
        if (letterKindFor(action) === undefined) return composed === undefined;
        if (!composed) return false;
        const text = renderLetterText(composed.letter);
        return (
          text.includes('call us on 0300 123 4567 at any time') &&
          text.includes('https://landlord.example/privacy-notice') &&
          text.includes('Our reference: R1') &&
          !text.includes('INTERNAL NOTE') &&
          !text.includes('EVIDENCE-1') &&
          // A letter that offers an appeal says by when; one that ends the arrangements does not offer one.
          (composed.appealDeadline === undefined) === !text.includes('right to appeal')
        );
      }),
      { numRuns: 60 },
    );
  });

  it('tells the customer a dismissed appeal’s outcome: its reasons, the arrangements that stay, the next review, emergencies, and where to go next', () => {
    const appealed: Restriction = {
      ...base,
      endsAt: '2027-05-01T10:00:00Z',
      appealed: true,
      appeal: {
        receivedAt: '2026-12-01',
        recordedBy: 'tess',
        grounds: 'INTERNAL GROUNDS as recorded by staff',
        outcome: 'dismissed',
        decidedBy: 'tara',
        decidedAt: '2026-12-09T15:00:00.000Z',
        note: 'The arrangements are still needed: the same matters were raised 40 times in November.',
      },
      history: [
        { action: 'approve', from: 'pending-approval', to: 'active', by: 'tom', at: '2026-11-25T10:00:00.000Z' },
        { action: 'appeal', from: 'active', to: 'active', by: 'tess', at: '2026-12-01T12:00:00.000Z', note: 'INTERNAL GROUNDS as recorded by staff' },
        {
          action: 'appeal:dismissed',
          from: 'active',
          to: 'active',
          by: 'tara',
          at: '2026-12-09T15:00:00.000Z',
          note: 'The arrangements are still needed: the same matters were raised 40 times in November.',
        },
      ],
    };
    const composed = composeLetter({ restriction: appealed, historyLength: 3, customer: { id: 'C1', name: 'Pat', phones: [], emails: [], needs: [] }, staff: (id) => staff[id], settings });
    expect(composed).toMatchObject({ id: 'R1.3', kind: 'appeal-outcome', transition: { action: 'appeal:dismissed' } });
    expect(composed?.appealDeadline).toBeUndefined();
    const text = renderLetterText(composed!.letter).replace(/\s+/g, ' ');
    expect(composed?.letter.title).toBe('The outcome of your appeal');
    expect(text).toContain('Wednesday 9 December 2026 Our reference: R1');
    expect(text).toContain('We received your appeal on Tuesday 1 December 2026.');
    expect(text).toContain('A manager who was not involved in the original decision has considered your appeal.');
    expect(text).toContain('the arrangements should stay as they are');
    expect(text).toContain('Why we made this decision The arrangements are still needed: the same matters were raised 40 times in November.');
    expect(text).toContain('- We will reply to new matters only.');
    expect(text).toContain('Jo Smith (Tenancy Specialist) will be your single point of contact');
    expect(text).toContain('We will review these arrangements by Monday 1 February 2027');
    expect(text).toContain('They will end on Saturday 1 May 2027');
    expect(text).toContain('call us on 0300 123 4567 at any time');
    expect(text).toContain('make a complaint through our complaints procedure');
    expect(text).toContain('By email: housing@landlord.example');
    expect(text).toContain('Housing Ombudsman Service');
    expect(text).not.toContain('right to appeal');
    expect(text).not.toContain('INTERNAL');
  });
});
