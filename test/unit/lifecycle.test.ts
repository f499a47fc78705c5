import { RuleError } from '../../rules/errors';
import {
  addException,
  approveRestriction,
  decideAppeal,
  decideRestriction,
  expireIfDue,
  isEnforceable,
  isSameRequest,
  liftRestriction,
  recordAppeal,
  rejectRestriction,
  requestRestriction,
  reviewRestriction,
  toEnforced,
  varyRestriction,
  type DecideContext,
  type DecideInput,
  type RequestInput,
} from '../../rules/lifecycle';
import { usableChannels } from '../../rules/validation';
import type { Customer, Measure, Restriction, Staff } from '../../rules/types';

const people: Record<string, Staff> = {
  sam: { id: 'sam', name: 'Sam Staff', email: 'sam@x.org', roles: ['staff'] },
  mia: { id: 'mia', name: 'Mia Manager', email: 'mia@x.org', roles: ['manager'] },
  tess: { id: 'tess', name: 'Tess Specialist', email: 'tess@x.org', roles: ['tenancy-specialist'] },
  tom: { id: 'tom', name: 'Tom TS-Manager', email: 'tom@x.org', roles: ['ts-manager'] },
  tara: { id: 'tara', name: 'Tara TS-Manager', email: 'tara@x.org', roles: ['ts-manager'] },
  jsmith: { id: 'jsmith', name: 'Jane Smith', email: 'j@x.org', roles: ['staff'] },
};
const person = (id: string): Staff => people[id] as Staff;
const customer: Customer = { id: 'C123', name: 'Pat', phones: [], emails: [], needs: [] };
const now = new Date('2026-11-25T10:00:00Z');

const request: RequestInput = {
  customerId: 'C123',
  category: 'excessive-contact',
  summary: '212 calls in October',
  evidence: [{ type: 'call-log', reference: 'LOG-1' }],
  authorisedBy: 'mia',
  warnings: [{ type: 'formal', date: '2026-10-01' }],
};
const decision: DecideInput = {
  measures: [{ type: 'call-times', windows: [{ days: ['tue'], start: '10:00', end: '12:00' }] }, { type: 'named-contact', staffId: 'jsmith' }],
  reviewAt: '2027-02-25T10:00:00Z',
  singlePointOfContact: 'jsmith',
};

function ctx(actorId: string, patch: Partial<DecideContext> = {}): DecideContext {
  return { actor: person(actorId), now, customer, staff: (id) => people[id], maxReviewMonths: 6, timeZone: 'Europe/London', ...patch };
}

function refusal(fn: () => unknown): RuleError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RuleError) return e;
    throw e;
  }
  throw new Error('expected a RuleError');
}

function active(): Restriction {
  const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
  return approveRestriction(decideRestriction(r, decision, ctx('tess')), { actor: person('tom'), now });
}

describe('request', () => {
  it('records the request with who and when', () => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    expect(r).toMatchObject({ id: 'R1', status: 'requested', requestedBy: 'sam', authorisedBy: 'mia' });
    expect(r.history).toEqual([{ action: 'request', from: null, to: 'requested', by: 'sam', at: now.toISOString(), note: request.summary }]);
  });

  it.each([
    ['no-category', { category: '' as never }],
    ['no-evidence', { evidence: [] }],
    ['no-authorisation', { authorisedBy: '' }],
    ['no-summary', { summary: '  ' }],
    ['no-warning', { warnings: [] }],
  ])('refuses %s', (code, patch) => {
    const e = refusal(() => requestRestriction({ ...request, ...patch }, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') }));
    expect(e.code).toBe(code);
    expect(e.kind).toBe('invalid');
  });

  it('accepts a request without a warning when it says why', () => {
    const r = requestRestriction({ ...request, warnings: [], noWarningReason: 'Threat of violence' }, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    expect(r.noWarningReason).toBe('Threat of violence');
  });

  it('requires the authoriser to be a manager, and not the requester', () => {
    expect(refusal(() => requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('tess') })).code).toBe('unknown-authoriser');
    expect(refusal(() => requestRestriction(request, { id: 'R1', actor: person('sam'), now })).code).toBe('unknown-authoriser');
    const self = refusal(() => requestRestriction(request, { id: 'R1', actor: person('mia'), now, authoriser: person('mia') }));
    expect(self).toMatchObject({ code: 'self-authorised', kind: 'forbidden' });
  });
});

describe('isSameRequest (a retried request with an Idempotency-Key)', () => {
  const stored = requestRestriction({ ...request, summary: '  212 calls  ' }, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });

  it('recognises the same request, as sent again (untrimmed, the optional fields as they were)', () => {
    expect(isSameRequest(stored, { ...request, summary: '212 calls' }, 'sam')).toBe(true);
    expect(isSameRequest(stored, { ...request, summary: ' 212 calls\n' }, 'sam')).toBe(true);
  });

  it.each([
    ['another customer', { customerId: 'C9' }],
    ['another summary', { summary: '213 calls' }],
    ['other evidence', { evidence: [{ type: 'note', reference: 'N2' }] }],
    ['another authoriser', { authorisedBy: 'max' }],
    ['no warning', { warnings: [], noWarningReason: 'Threat' }],
  ] as Array<[string, Partial<RequestInput>]>)('tells apart a request with %s', (_name, patch) => {
    expect(isSameRequest(stored, { ...request, summary: '212 calls', ...patch }, 'sam')).toBe(false);
  });

  it('tells apart the same request sent by someone else', () => {
    expect(isSameRequest(stored, { ...request, summary: '212 calls' }, 'tess')).toBe(false);
  });
});

describe('decide and approve', () => {
  it('walks request → pending-approval → active, with history', () => {
    const r = active();
    expect(r.status).toBe('active');
    expect(r.startsAt).toBe(now.toISOString());
    expect(r.history.map((h) => `${h.action}:${h.by}`)).toEqual(['request:sam', 'decide:tess', 'approve:tom']);
  });

  it('refuses approval by the requester or the decider', () => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    const pending = decideRestriction(r, decision, ctx('tess'));
    expect(refusal(() => approveRestriction(pending, { actor: person('tess'), now }))).toMatchObject({ code: 'separation-of-duties', kind: 'forbidden' });
    expect(refusal(() => approveRestriction(pending, { actor: person('sam'), now })).code).toBe('separation-of-duties');
  });

  it('refuses actions in the wrong state', () => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    expect(refusal(() => approveRestriction(r, { actor: person('tom'), now }))).toMatchObject({ code: 'invalid-transition', kind: 'conflict' });
    expect(refusal(() => liftRestriction(r, { reason: 'x' }, { actor: person('tess'), now })).code).toBe('invalid-transition');
    expect(refusal(() => decideRestriction(active(), decision, ctx('tess'))).code).toBe('invalid-transition');
  });

  it.each([
    ['no-measures', { measures: [] }],
    ['no-review-date', { reviewAt: '' }],
    ['review-too-late', { reviewAt: '2027-06-26T10:00:00Z' }],
    ['invalid-dates', { reviewAt: '2026-11-01T10:00:00Z' }],
    ['unknown-staff', { measures: [{ type: 'named-contact', staffId: 'nobody' } as Measure] }],
    ['unknown-staff', { singlePointOfContact: 'nobody' }],
    ['malformed-window', { measures: [{ type: 'call-times', windows: [{ days: ['tue'], start: '12:00', end: '10:00' }] } as Measure] }],
    ['invalid-measure', { measures: [{ type: 'response-frequency', every: 'weekly' } as Measure] }],
  ])('refuses a decision with %s', (code, patch) => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    expect(refusal(() => decideRestriction(r, { ...decision, ...patch }, ctx('tess'))).code).toBe(code);
  });

  it('refuses written-only for a customer who cannot write, unless an adjustment is recorded', () => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    const cannotWrite = { ...customer, needs: ['cannot-write'] };
    const writtenOnly: DecideInput = { ...decision, measures: [{ type: 'written-only', channels: ['letter', 'email'] }] };
    const e = refusal(() => decideRestriction(r, writtenOnly, ctx('tess', { customer: cannotWrite })));
    expect(e.code).toBe('no-usable-channel');
    expect(e.message).toContain('cannot-write');
    const adjusted = decideRestriction(r, { ...writtenOnly, adjustments: [{ need: 'cannot-write', arrangement: 'Advocate writes on their behalf' }] }, ctx('tess', { customer: cannotWrite }));
    expect(adjusted.status).toBe('pending-approval');
  });
});

describe('usable channels', () => {
  it('keeps channels open that needs and measures allow', () => {
    expect(usableChannels([{ type: 'written-only', channels: ['letter'] }], ['visual-impairment'])).toEqual([]);
    expect(usableChannels([{ type: 'written-only', channels: ['letter', 'email'] }], ['visual-impairment'])).toEqual(['email']);
    expect(usableChannels([{ type: 'word-limit', maxWords: 500 }], ['cannot-write', 'hearing-impairment'])).toEqual(['visit']);
  });
});

describe('review, vary, lift, appeal, exceptions, expiry', () => {
  it('reviews: continue needs a next review date; lift ends enforcement', () => {
    const r = active();
    expect(refusal(() => reviewRestriction(r, { outcome: 'continue', note: 'still needed' }, ctx('tess'))).code).toBe('no-review-date');
    const continued = reviewRestriction(r, { outcome: 'continue', note: 'still needed', nextReviewAt: '2027-03-01T10:00:00Z' }, ctx('tess'));
    expect(continued.reviewAt).toBe('2027-03-01T10:00:00Z');
    expect(continued.reviews).toHaveLength(1);
    const lifted = reviewRestriction(r, { outcome: 'lift', note: 'behaviour improved' }, ctx('tess'));
    expect(lifted.status).toBe('lifted');
    expect(isEnforceable(lifted, now)).toBe(false);
  });

  it('varies the measures, re-validated', () => {
    const varied = varyRestriction(active(), { measures: [{ type: 'word-limit', maxWords: 400 }], note: 'letters too long' }, ctx('tess'));
    expect(varied.measures).toEqual([{ type: 'word-limit', maxWords: 400 }]);
    expect(refusal(() => varyRestriction(active(), { measures: [], note: 'x' }, ctx('tess'))).code).toBe('no-measures');
  });

  it('rejects a request, or a decision by someone other than its requester or decider', () => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    const rejected = rejectRestriction(r, { reason: 'not proportionate yet' }, { actor: person('tess'), now });
    expect(rejected.status).toBe('rejected');
    expect(rejected.history.at(-1)).toMatchObject({ action: 'reject', by: 'tess', note: 'not proportionate yet' });
    const pending = decideRestriction(r, decision, ctx('tess'));
    expect(refusal(() => rejectRestriction(pending, { reason: 'x' }, { actor: person('tess'), now })).code).toBe('separation-of-duties');
    expect(rejectRestriction(pending, { reason: 'disproportionate' }, { actor: person('tom'), now }).status).toBe('rejected');
    expect(refusal(() => rejectRestriction(active(), { reason: 'x' }, { actor: person('tom'), now })).code).toBe('invalid-transition');
  });

  it('lifts with a reason', () => {
    expect(liftRestriction(active(), { reason: 'agreed' }, { actor: person('tess'), now }).status).toBe('lifted');
    expect(refusal(() => liftRestriction(active(), { reason: ' ' }, { actor: person('tess'), now })).code).toBe('no-reason');
  });

  it('keeps enforcing while an appeal is open; the appeal is decided by an uninvolved ts-manager', () => {
    const appealed = recordAppeal(active(), { grounds: 'I need to phone about repairs' }, { actor: person('tess'), now });
    expect(appealed.appealed).toBe(true);
    expect(isEnforceable(appealed, now)).toBe(true);
    expect(refusal(() => decideAppeal(appealed, { outcome: 'upheld', note: 'x' }, ctx('tom')))).toMatchObject({ code: 'separation-of-duties', kind: 'forbidden' });
    const upheld = decideAppeal(appealed, { outcome: 'upheld', note: 'fair point' }, ctx('tara'));
    expect(upheld.status).toBe('lifted');
    expect(upheld.appeal).toMatchObject({ outcome: 'upheld', decidedBy: 'tara' });
    const dismissed = decideAppeal(appealed, { outcome: 'dismissed', note: 'still needed' }, ctx('tara'));
    expect(dismissed.status).toBe('active');
  });

  it('adds a bounded one-off exception', () => {
    const r = addException(active(), { channel: 'voice', from: now.toISOString(), until: '2026-11-25T16:00:00Z', note: 'call back' }, { actor: person('tess'), now, id: 'X1' });
    expect(r.exceptions).toEqual([expect.objectContaining({ id: 'X1', staffId: 'tess', channel: 'voice' })]);
    expect(refusal(() => addException(active(), { channel: 'voice', from: now.toISOString(), until: '2026-12-25T16:00:00Z', note: 'x' }, { actor: person('tess'), now, id: 'X2' })).code).toBe('invalid-dates');
  });

  it('expires at endsAt', () => {
    const r = { ...active(), endsAt: '2026-12-01T00:00:00Z' };
    expect(expireIfDue(r, new Date('2026-11-30T23:59:59Z'))).toBeUndefined();
    const expired = expireIfDue(r, new Date('2026-12-01T00:00:00Z'));
    expect(expired?.status).toBe('expired');
    expect(expired?.history.at(-1)).toMatchObject({ action: 'expire', by: 'system' });
  });

  it('strips the reason and evidence from what the gate enforces', () => {
    const enforced = toEnforced(active()) as unknown as Record<string, unknown>;
    expect(enforced.summary).toBeUndefined();
    expect(enforced.evidence).toBeUndefined();
    expect(enforced.category).toBeUndefined();
    expect(enforced.measures).toEqual(decision.measures);
  });

  it('never mutates its input', () => {
    const r = active();
    const frozen = JSON.stringify(r);
    liftRestriction(r, { reason: 'x' }, { actor: person('tess'), now });
    expect(JSON.stringify(r)).toBe(frozen);
  });
});

describe('dates of things that have happened: a warning, an appeal received', () => {
  const asked = (warnings: RequestInput['warnings'], patch: Partial<RequestInput> = {}, at = now, timeZone?: string) =>
    requestRestriction({ ...request, warnings, ...patch }, { id: 'R1', actor: person('sam'), now: at, authoriser: person('mia'), ...(timeZone ? { timeZone } : {}) });

  it.each([
    ['words', 'not a date at all'],
    ['a month that does not exist', '2026-13-45'],
    ['a day that does not exist', '2026-02-29'],
    ['a British-order date', '05/10/2026'],
    ['an empty date', ''],
    ['a time without its offset', '2026-10-05T10:00:00'],
    ['an hour that does not exist', '2026-10-05T24:00:00Z'],
  ])('refuses a warning dated with %s as 422 invalid-dates, naming the field', (_what, date) => {
    const e = refusal(() => asked([{ type: 'formal', date }]));
    expect(e).toMatchObject({ code: 'invalid-dates', kind: 'invalid' });
    expect(e.message).toContain('warnings[0].date');
  });

  it.each([
    ['a date years ahead', '2030-01-01'],
    ['tomorrow', '2026-11-26'],
    ['an instant that falls tomorrow', '2026-11-26T00:00:00Z'],
  ])('refuses a warning dated %s: the customer cannot yet have had the chance to change', (_what, date) => {
    const e = refusal(() => asked([{ type: 'informal', date }]));
    expect(e).toMatchObject({ code: 'invalid-dates', kind: 'invalid' });
    expect(e.message).toMatch(/warnings\[0\]\.date .*future/);
  });

  it('names the warning at fault, and refuses a bad one even beside a good one or a reason for none', () => {
    const e = refusal(() => asked([{ type: 'formal', date: '2026-10-05' }, { type: 'formal', date: '2031-01-01' }]));
    expect(e.message).toContain('warnings[1].date');
    expect(refusal(() => asked([{ type: 'formal', date: 'soon' }], { noWarningReason: 'Threats' })).code).toBe('invalid-dates');
  });

  it('accepts a warning given today or before, as a calendar date or an instant with its offset, and keeps it as written', () => {
    expect(asked([{ type: 'formal', date: '2026-11-25' }]).warnings).toEqual([{ type: 'formal', date: '2026-11-25' }]);
    expect(asked([{ type: 'formal', date: '2024-02-29' }]).status).toBe('requested');
    expect(asked([{ type: 'formal', date: '2026-10-05T14:30:00+01:00' }]).warnings[0]?.date).toBe('2026-10-05T14:30:00+01:00');
    // Later today is still today: a date is what people mean by it, and a client's clock may run ahead.
    expect(asked([{ type: 'informal', date: '2026-11-25T16:00:00.5Z' }]).status).toBe('requested');
  });

  it('judges "today" in the configured zone: 00:30 on 1 July in London is still 30 June in UTC', () => {
    const londonMidnight = new Date('2026-06-30T23:30:00Z');
    expect(asked([{ type: 'formal', date: '2026-07-01' }], {}, londonMidnight, 'Europe/London').status).toBe('requested');
    // London is the default zone (DESIGN.md §2).
    expect(asked([{ type: 'formal', date: '2026-07-01' }], {}, londonMidnight).status).toBe('requested');
    expect(refusal(() => asked([{ type: 'formal', date: '2026-07-01' }], {}, londonMidnight, 'UTC')).code).toBe('invalid-dates');
  });

  it('recognises a retried request as the same without judging its warning dates again', () => {
    const stored = asked([{ type: 'formal', date: '2026-11-25' }]);
    expect(isSameRequest(stored, { ...request, warnings: [{ type: 'formal', date: '2026-11-25' }] }, 'sam')).toBe(true);
    expect(isSameRequest(stored, { ...request, warnings: [{ type: 'formal', date: '2026-11-24' }] }, 'sam')).toBe(false);
  });

  it.each([
    ['not a date', 'next week'],
    ['in the future', '2026-11-26T09:00:00Z'],
    ['years ahead', '2030-01-01'],
  ])('refuses an appeal received %s (422 invalid-dates)', (_what, receivedAt) => {
    const e = refusal(() => recordAppeal(active(), { grounds: 'I need to phone', receivedAt }, { actor: person('tess'), now }));
    expect(e).toMatchObject({ code: 'invalid-dates', kind: 'invalid' });
    expect(e.message).toContain('receivedAt');
  });

  it('records an appeal received today or earlier', () => {
    expect(recordAppeal(active(), { grounds: 'x', receivedAt: '2026-11-25T09:00:00Z' }, { actor: person('tess'), now }).appeal?.receivedAt).toBe('2026-11-25T09:00:00Z');
    expect(recordAppeal(active(), { grounds: 'x', receivedAt: '2026-11-20' }, { actor: person('tess'), now }).appeal?.receivedAt).toBe('2026-11-20');
    expect(recordAppeal(active(), { grounds: 'x' }, { actor: person('tess'), now }).appeal?.receivedAt).toBe(now.toISOString());
  });
});

describe('every transition records who, when and why', () => {
  it('records the decider’s and the approver’s notes, trimmed; a blank or absent one records none', () => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    const decided = decideRestriction(r, { ...decision, note: '  Calls at all hours; windows keep one line open  ' }, ctx('tess'));
    expect(decided.history.at(-1)).toEqual({ action: 'decide', from: 'requested', to: 'pending-approval', by: 'tess', at: now.toISOString(), note: 'Calls at all hours; windows keep one line open' });
    const approved = approveRestriction(decided, { actor: person('tom'), now }, { note: 'approved after checking policy' });
    expect(approved.history.at(-1)).toEqual({ action: 'approve', from: 'pending-approval', to: 'active', by: 'tom', at: now.toISOString(), note: 'approved after checking policy' });

    expect(decideRestriction(r, { ...decision, note: '   ' }, ctx('tess')).history.at(-1)).not.toHaveProperty('note');
    expect(approveRestriction(decided, { actor: person('tom'), now }).history.at(-1)).not.toHaveProperty('note');
    expect(approveRestriction(decided, { actor: person('tom'), now }, {}).history.at(-1)).not.toHaveProperty('note');
  });

  it('gives every step of a full life its reason', () => {
    let r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    r = decideRestriction(r, { ...decision, note: 'why decided' }, ctx('tess'));
    r = approveRestriction(r, { actor: person('tom'), now }, { note: 'why approved' });
    r = reviewRestriction(r, { outcome: 'continue', note: 'why continued', nextReviewAt: '2027-03-01T10:00:00Z' }, ctx('tess'));
    r = varyRestriction(r, { measures: [{ type: 'word-limit', maxWords: 400 }], note: 'why varied' }, ctx('tess'));
    r = recordAppeal(r, { grounds: 'why appealed' }, { actor: person('tess'), now });
    r = decideAppeal(r, { outcome: 'dismissed', note: 'why dismissed' }, ctx('tara'));
    r = addException(r, { channel: 'voice', from: now.toISOString(), until: '2026-11-25T16:00:00Z', note: 'why excepted' }, { actor: person('tess'), now, id: 'X1' });
    r = liftRestriction(r, { reason: 'why lifted' }, { actor: person('tess'), now });
    expect(r.history.map((s) => [s.action, s.by, s.note])).toEqual([
      ['request', 'sam', request.summary],
      ['decide', 'tess', 'why decided'],
      ['approve', 'tom', 'why approved'],
      ['review:continue', 'tess', 'why continued'],
      ['vary', 'tess', 'why varied'],
      ['appeal', 'tess', 'why appealed'],
      ['appeal:dismissed', 'tara', 'why dismissed'],
      ['exception', 'tess', 'why excepted'],
      ['lift', 'tess', 'why lifted'],
    ]);
    expect(r.history.every((s) => s.at === now.toISOString())).toBe(true);
  });

  it('keeps the notes of a decision and an approval out of what the gate enforces and agents see', () => {
    const r = requestRestriction(request, { id: 'R1', actor: person('sam'), now, authoriser: person('mia') });
    const approved = approveRestriction(decideRestriction(r, { ...decision, note: 'SECRET-DECIDE' }, ctx('tess')), { actor: person('tom'), now }, { note: 'SECRET-APPROVE' });
    const enforced = JSON.stringify(toEnforced(approved));
    expect(enforced).not.toContain('SECRET-DECIDE');
    expect(enforced).not.toContain('SECRET-APPROVE');
  });
});
