import { EMERGENCY_PHRASES } from '../../config/emergency-phrases';
import { decide } from '../../rules/decide';
import type { Contact, DecisionSettings, EnforcedRestriction, GateSnapshot, Identification, Measure, RespondedContact } from '../../rules/types';

const settings: DecisionSettings = {
  timeZone: 'Europe/London',
  emergencyNumber: '0300 123 4567',
  writeToAddress: 'Customer Services, 1 High Street, London E1 1AA',
  writeToEmail: 'housing@example.org',
  repeatThreshold: 0.4,
  emergencyPhrases: EMERGENCY_PHRASES,
};

const TUE_THU: Measure = { type: 'call-times', windows: [{ days: ['tue', 'thu'], start: '10:00', end: '12:00' }] };
const NAMED: Measure = { type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' };

function restriction(measures: Measure[], patch: Partial<EnforcedRestriction> = {}): EnforcedRestriction {
  return {
    id: 'R9',
    status: 'active',
    measures,
    startsAt: '2026-01-01T00:00:00Z',
    reviewAt: '2027-05-01T00:00:00Z',
    singlePointOfContact: 'jsmith',
    adjustments: [],
    exceptions: [],
    appealed: false,
    ...patch,
  };
}

function resolved(restrictions: EnforcedRestriction[], responded: RespondedContact[] = []): Identification {
  const snapshot: GateSnapshot = {
    customerId: 'C123',
    name: 'Pat Example',
    needs: [],
    restrictions,
    staff: { jsmith: { id: 'jsmith', name: 'Jane Smith' }, akhan: { id: 'akhan', name: 'Amir Khan' } },
  };
  return { kind: 'resolved', snapshot, responded };
}

const call: Contact = { channel: 'voice', from: '+447700900123' };
const at = (iso: string) => new Date(iso);

describe('decide: identity', () => {
  it('lets an unidentified caller proceed', () => {
    const d = decide(call, { kind: 'unidentified' }, at('2026-11-25T14:00:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'proceed', reasons: ['unidentified'], breach: false });
    expect(d.customerId).toBeUndefined();
  });

  it('lets a shared number proceed with a flag for the agent', () => {
    const d = decide(call, { kind: 'ambiguous', customerIds: ['C1', 'C2'] }, at('2026-11-25T14:00:00Z'), settings);
    expect(d.outcome).toBe('proceed');
    expect(d.reasons).toEqual(['ambiguous-identity']);
    expect(d.agentFlags.join(' ')).toMatch(/2 customers/);
  });

  it('proceeds, flagged, when the restriction check is unavailable', () => {
    const d = decide(call, { kind: 'unavailable' }, at('2026-11-25T14:00:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'proceed', reasons: ['restriction-check-unavailable'] });
  });

  it('still routes an emergency when the restriction check is unavailable', () => {
    const d = decide({ ...call, emergency: true }, { kind: 'unavailable' }, at('2026-11-25T14:00:00Z'), settings);
    expect(d.outcome).toBe('emergency');
    expect(d.reasons).toEqual(['emergency', 'restriction-check-unavailable']);
  });

  it('has nothing to enforce for a customer without restrictions', () => {
    const d = decide(call, resolved([]), at('2026-11-25T14:00:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'proceed', customerId: 'C123', reasons: ['no-restriction'], agentFlags: [] });
  });

  it.each([
    ['not yet started', { startsAt: '2026-12-01T00:00:00Z' }],
    ['ended', { endsAt: '2026-11-20T00:00:00Z' }],
    ['awaiting approval', { status: 'pending-approval' as const }],
    ['lifted', { status: 'lifted' as const }],
  ])('does not enforce a restriction that is %s', (_label, patch) => {
    const d = decide(call, resolved([restriction([TUE_THU], patch)]), at('2026-11-25T14:00:00Z'), settings);
    expect(d.reasons).toEqual(['no-restriction']);
    expect(d.outcome).toBe('proceed');
  });

  it('keeps enforcing when the review is overdue', () => {
    const d = decide(call, resolved([restriction([TUE_THU], { reviewAt: '2026-10-01T00:00:00Z' })]), at('2026-11-25T14:00:00Z'), settings);
    expect(d.outcome).toBe('deflect');
  });
});

describe('decide: calls under call times', () => {
  it('deflects a call outside the windows with the next permitted start', () => {
    const d = decide(call, resolved([restriction([TUE_THU, NAMED])]), at('2026-11-25T14:00:00Z'), settings);
    expect(d).toMatchObject({
      outcome: 'deflect',
      customerId: 'C123',
      restrictionId: 'R9',
      reasons: ['outside-call-times'],
      nextAllowedAt: '2026-11-26T10:00:00Z',
      breach: true,
    });
    expect(d.customerMessage).toContain('Thursday 26 November between 10am and 12 noon');
    expect(d.customerMessage).toContain(settings.emergencyNumber);
    // The measures' flags exactly as DESIGN.md §3 shows them, in order; then the details, and the emergency rule last.
    expect(d.agentFlags).toEqual([
      'Calls Tue & Thu 10:00–12:00 only',
      'Named contact: Jane Smith',
      'No calls on bank holidays',
      'Next call window: Thu 26 Nov 10:00',
      'Deputy for Jane Smith: Amir Khan',
      'Emergencies are always put through, whatever the restriction',
    ]);
  });

  it('puts a call inside a window through to the named contact', () => {
    const d = decide(call, resolved([restriction([TUE_THU, NAMED])]), at('2026-11-26T10:30:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'proceed', routeTo: 'jsmith', reasons: ['named-contact'], breach: false });
    expect(d.nextAllowedAt).toBeUndefined();
    // Inside the window the agent is told it is open and until when — not when the window after it opens.
    expect(d.agentFlags).toEqual([
      'Calls Tue & Thu 10:00–12:00 only',
      'Named contact: Jane Smith',
      'No calls on bank holidays',
      'Call window open until Thu 26 Nov 12:00',
      'Deputy for Jane Smith: Amir Khan',
      'Emergencies are always put through, whatever the restriction',
    ]);
  });

  it('says a window that ends at midnight is open until 24:00 of its own day', () => {
    const late: Measure = { type: 'call-times', windows: [{ days: ['thu'], start: '22:00', end: '24:00' }] };
    const d = decide(call, resolved([restriction([late])]), at('2026-11-26T23:00:00Z'), settings);
    expect(d.outcome).toBe('proceed');
    expect(d.agentFlags).toContain('Call window open until Thu 26 Nov 24:00');
  });

  it("shows agents each agreed adjustment's arrangement, never the need behind it", () => {
    const adjustments = [{ need: 'cannot-write' as const, arrangement: 'Support worker Pat may call for them' }];
    const d = decide(call, resolved([restriction([TUE_THU], { adjustments })]), at('2026-11-25T14:00:00Z'), settings);
    expect(d.agentFlags).toContain('Adjustment agreed: Support worker Pat may call for them');
    expect(d.agentFlags.join(' ')).not.toContain('cannot-write');
  });

  it('treats the window end as exclusive and the start as inclusive', () => {
    const r = resolved([restriction([TUE_THU])]);
    expect(decide(call, r, at('2026-11-26T10:00:00Z'), settings).outcome).toBe('proceed');
    const end = decide(call, r, at('2026-11-26T12:00:00Z'), settings);
    expect(end.outcome).toBe('deflect');
    expect(end.nextAllowedAt).toBe('2026-12-01T10:00:00Z');
  });

  it('reads windows as London wall-clock time in summer', () => {
    const r = resolved([restriction([TUE_THU])]);
    expect(decide(call, r, at('2026-06-02T09:00:00Z'), settings).outcome).toBe('proceed');
    const late = decide(call, r, at('2026-06-02T11:00:00Z'), settings);
    expect(late.outcome).toBe('deflect');
    expect(late.nextAllowedAt).toBe('2026-06-04T09:00:00Z');
  });

  it('gives the next start across the October clock change', () => {
    // Thu 22 Oct 2026 after the window (BST) → Tue 27 Oct 10:00 GMT.
    const d = decide(call, resolved([restriction([TUE_THU])]), at('2026-10-22T12:30:00Z'), settings);
    expect(d.nextAllowedAt).toBe('2026-10-27T10:00:00Z');
  });

  it('closes the windows on a substitute bank holiday and names the next day', () => {
    const monday: Measure = { type: 'call-times', windows: [{ days: ['mon'], start: '10:00', end: '12:00' }] };
    const d = decide(call, resolved([restriction([monday])]), at('2026-12-28T10:30:00Z'), settings);
    expect(d.outcome).toBe('deflect');
    expect(d.reasons).toEqual(['bank-holiday']);
    expect(d.nextAllowedAt).toBe('2027-01-04T10:00:00Z');
  });

  it('keeps windows open on bank holidays when the measure says so', () => {
    const monday: Measure = { type: 'call-times', windows: [{ days: ['mon'], start: '10:00', end: '12:00' }], bankHolidays: 'open' };
    expect(decide(call, resolved([restriction([monday])]), at('2026-12-28T10:30:00Z'), settings).outcome).toBe('proceed');
  });

  it('lets an emergency through outside the windows', () => {
    const d = decide({ ...call, emergency: true }, resolved([restriction([TUE_THU])]), at('2026-11-25T14:00:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'emergency', reasons: ['emergency'], breach: false, customerId: 'C123' });
  });

  it('honours a live one-off exception, routed to the member of staff who arranged it', () => {
    const exceptions = [
      { id: 'X1', channel: 'voice' as const, from: '2026-11-25T13:00:00Z', until: '2026-11-25T16:00:00Z', note: 'call back', staffId: 'akhan', createdAt: '2026-11-25T12:00:00Z' },
    ];
    const r = resolved([restriction([TUE_THU, NAMED], { exceptions })]);
    const d = decide(call, r, at('2026-11-25T14:00:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'proceed', routeTo: 'akhan', exceptionId: 'X1', breach: false });
    expect(d.agentFlags.some((f) => f.startsWith('One-off exception: voice to Amir Khan'))).toBe(true);
    expect(decide(call, r, at('2026-11-25T16:00:00Z'), settings).outcome).toBe('deflect');
  });
});

describe('decide: written-only, appointments, visits', () => {
  const written: Measure = { type: 'written-only', channels: ['letter', 'email'] };

  it('deflects a call from a written-only customer to the written route', () => {
    const d = decide(call, resolved([restriction([written])]), at('2026-11-26T10:30:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'deflect', reasons: ['written-only'], breach: true });
    expect(d.nextAllowedAt).toBeUndefined();
    expect(d.customerMessage).toContain(settings.writeToEmail);
    expect(d.customerMessage).toContain(settings.emergencyNumber);
  });

  it('accepts email from a written-only customer', () => {
    const d = decide({ channel: 'email', from: 'pat@example.org', text: 'Please fix my gutter.' }, resolved([restriction([written])]), at('2026-11-26T10:30:00Z'), settings);
    expect(d.outcome).toBe('proceed');
    expect(d.breach).toBe(false);
  });

  it('accepts but records as a breach an email from a letters-only customer', () => {
    const d = decide({ channel: 'email', text: 'Hello' }, resolved([restriction([{ type: 'written-only', channels: ['letter'] }])]), at('2026-11-26T10:30:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'proceed', breach: true });
    expect(d.reasons).toContain('written-only');
  });

  it('deflects a walk-in without an appointment', () => {
    const d = decide({ channel: 'visit', customerId: 'C123' }, resolved([restriction([{ type: 'appointments-only', staffId: 'jsmith' }])]), at('2026-11-26T10:30:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'deflect', reasons: ['appointment-required'], routeTo: 'jsmith', breach: true });
    expect(d.customerMessage).toContain('Jane Smith');
  });

  it('does not apply call times to visits', () => {
    const d = decide({ channel: 'visit', customerId: 'C123' }, resolved([restriction([TUE_THU])]), at('2026-11-25T14:00:00Z'), settings);
    expect(d.outcome).toBe('proceed');
  });
});

describe('decide: written contact is shaped, never deflected', () => {
  const email = (text: string, subject = 'My repair'): Contact => ({ channel: 'email', from: 'pat@example.org', subject, text });

  it('routes to the named contact and never deflects outside call times', () => {
    const d = decide(email('Please call me about the fence.'), resolved([restriction([TUE_THU, NAMED])]), at('2026-11-25T14:00:00Z'), settings);
    expect(d).toMatchObject({ outcome: 'proceed', routeTo: 'jsmith', reasons: ['named-contact'] });
  });

  it('counts words against the limit (body only)', () => {
    const words = Array.from({ length: 15 }, (_, i) => `word${i}`).join(' ');
    const d = decide(email(words), resolved([restriction([{ type: 'word-limit', maxWords: 10 }])]), at('2026-11-25T14:00:00Z'), settings);
    expect(d.wordLimit).toEqual({ limit: 10, words: 15, exceeded: true });
    expect(d.reasons).toContain('word-limit-exceeded');
    expect(d.customerMessage).toContain('Only the first 10 words');
    const under = decide(email('just five words here today'), resolved([restriction([{ type: 'word-limit', maxWords: 10 }])]), at('2026-11-25T14:00:00Z'), settings);
    expect(under.wordLimit).toEqual({ limit: 10, words: 5, exceeded: false });
    expect(under.reasons).not.toContain('word-limit-exceeded');
  });

  it('uses a word count given by the channel (a letter counted by hand)', () => {
    const d = decide({ channel: 'letter', words: 812 }, resolved([restriction([{ type: 'word-limit', maxWords: 500 }])]), at('2026-11-25T14:00:00Z'), settings);
    expect(d.wordLimit).toEqual({ limit: 500, words: 812, exceeded: true });
  });

  it('flags an unreadable letter for a manual count instead of counting zero', () => {
    const d = decide({ channel: 'letter' }, resolved([restriction([{ type: 'word-limit', maxWords: 500 }])]), at('2026-11-25T14:00:00Z'), settings);
    expect(d.wordLimit).toBeUndefined();
    expect(d.agentFlags.join(' ')).toMatch(/count it by hand/);
  });

  it('sets respondAfter to the next weekly response day', () => {
    const d = decide(email('Any news on my damp?'), resolved([restriction([{ type: 'response-frequency', every: 'P7D', weekday: 'fri' }])]), at('2026-11-25T10:00:00Z'), settings);
    expect(d.respondAfter).toBe('2026-11-27T09:00:00Z');
    expect(d.reasons).toContain('response-frequency');
    expect(d.customerMessage).toContain('Friday 27 November 2026');
  });

  it('refers a repeated issue to the earlier response', () => {
    const responded = [
      {
        contactId: 'M1',
        text: 'The communal bin store on Elm Road has not been cleaned for three weeks and smells terrible, please send the cleaners',
        respondedAt: '2026-11-01T12:00:00Z',
        reference: 'RESP-77',
      },
    ];
    const repeat = email('Once again the communal bin store on Elm Road has not been cleaned for three weeks and smells terrible, send the cleaners');
    const d = decide(repeat, resolved([restriction([{ type: 'new-issues-only' }])], responded), at('2026-11-25T10:00:00Z'), settings);
    expect(d.repeatOf).toEqual({ contactId: 'M1', respondedAt: '2026-11-01T12:00:00Z', reference: 'RESP-77' });
    expect(d.reasons).toContain('repeat-issue');
    expect(d.customerMessage).toContain('RESP-77');

    const fresh = decide(email('My kitchen tap drips constantly since Monday'), resolved([restriction([{ type: 'new-issues-only' }])], responded), at('2026-11-25T10:00:00Z'), settings);
    expect(fresh.repeatOf).toBeUndefined();
    expect(fresh.reasons).not.toContain('repeat-issue');
  });

  it('treats emergency wording as an emergency whatever the restriction', () => {
    const d = decide(email('There is a strong smell of gas in my kitchen'), resolved([restriction([{ type: 'response-frequency', every: 'P7D', weekday: 'fri' }])]), at('2026-11-25T10:00:00Z'), settings);
    expect(d.outcome).toBe('emergency');
    expect(d.respondAfter).toBeUndefined();
  });

  it('always tells the customer how to report an emergency', () => {
    const d = decide(email('Question about my rent statement'), resolved([restriction([NAMED])]), at('2026-11-25T10:00:00Z'), settings);
    expect(d.customerMessage).toContain(settings.emergencyNumber);
  });
});

describe('decide: a restriction that needs recorded later have left without a way in (policy §5)', () => {
  const WRITTEN: Measure = { type: 'written-only', channels: ['letter', 'email'] };
  /** The same customer with `needs` recorded now. */
  function withNeeds(restrictions: EnforcedRestriction[], needs: string[]): Identification {
    const ident = resolved(restrictions);
    if (ident.kind !== 'resolved') throw new Error('resolved');
    return { ...ident, snapshot: { ...ident.snapshot, needs } };
  }
  const stranded = (patch: Partial<EnforcedRestriction> = {}) => withNeeds([restriction([WRITTEN, TUE_THU, NAMED], patch)], ['cannot-write']);
  const REVIEW_NOW = /^Review now: .*no way to contact us/;

  it('lets calls and visits through, routed to the named contact, instead of turning them away — and says so', () => {
    for (const contact of [call, { channel: 'visit' as const, customerId: 'C123' }]) {
      // Saturday, outside the windows: written-only and call-times would both deflect.
      const d = decide(contact, stranded(), at('2026-11-28T14:00:00Z'), settings);
      expect(d).toMatchObject({ outcome: 'proceed', routeTo: 'jsmith', reasons: ['named-contact'], breach: false });
      expect(d.agentFlags.some((f) => REVIEW_NOW.test(f))).toBe(true);
      expect(d.agentFlags.at(-1)).toMatch(/^Emergencies are always put through/);
    }
  });

  it('still deflects when the needs leave a channel open, or a reasonable adjustment is recorded', () => {
    for (const ident of [
      withNeeds([restriction([WRITTEN])], []),
      withNeeds([restriction([WRITTEN])], ['visual-impairment']),
      withNeeds([restriction([WRITTEN], { adjustments: [{ need: 'cannot-write', arrangement: 'Advocate writes for them' }] })], ['cannot-write']),
    ]) {
      const d = decide(call, ident, at('2026-11-28T14:00:00Z'), settings);
      expect(d).toMatchObject({ outcome: 'deflect', reasons: ['written-only'], breach: true });
      expect(d.agentFlags.some((f) => REVIEW_NOW.test(f))).toBe(false);
    }
  });

  it('still shapes written contact and still puts emergencies first', () => {
    const email = decide({ channel: 'email', from: 'pat@example.org', text: 'About my rent' }, stranded(), at('2026-11-28T14:00:00Z'), settings);
    expect(email).toMatchObject({ outcome: 'proceed', routeTo: 'jsmith' });
    const urgent = decide({ ...call, emergency: true }, stranded(), at('2026-11-28T14:00:00Z'), settings);
    expect(urgent.outcome).toBe('emergency');
  });
});
