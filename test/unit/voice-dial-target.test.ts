/**
 * Who the gate can dial, decided in one place (channels/voice/twiml.ts `dialTarget`), and the staff API's
 * warnings built on it: a client identity before a number, nobody without either — and on a TaskRouter
 * route nobody is dialled at all (the named contact is a known worker), so nothing is warned about.
 */
import { dialTarget, dialsNamedStaff, isDiallable } from '../../channels/voice/twiml';
import type { VoiceRoute } from '../../config/env';
import { exceptionWarnings, namedContactWarnings } from '../../gateway/restriction-routes';
import type { Restriction, Staff } from '../../rules/types';

const DIAL: VoiceRoute = { kind: 'dial', number: '+441632960000' };
const REDIRECT: VoiceRoute = { kind: 'redirect', url: 'https://contact-centre.example.org/twiml' };
const ENQUEUE: VoiceRoute = { kind: 'enqueue', workflowSid: 'WW0123456789abcdef0123456789abcdef' };

const person = (id: string, extra: Partial<Staff> = {}): Staff => ({ id, name: id, email: `${id}@example.org`, roles: ['staff'], ...extra });
const STAFF = new Map<string, Staff>([
  ['ghost', person('ghost')],
  ['phoned', person('phoned', { phone: '+447700900555' })],
  ['client', person('client', { clientIdentity: 'client-id' })],
]);
const lookup = (id: string): Staff | undefined => STAFF.get(id);

/** A restriction as far as the warnings read it: its measures. */
function withNamed(staffId: string, deputyId?: string): Restriction {
  return { measures: [{ type: 'named-contact', staffId, ...(deputyId !== undefined ? { deputyId } : {}) }] } as Restriction;
}

describe('dialTarget', () => {
  it('prefers the client identity, then the number, and has nothing for someone with neither', () => {
    expect(dialTarget({ clientIdentity: 'c', phone: '+447700900555' })).toEqual({ kind: 'client', identity: 'c' });
    expect(dialTarget({ phone: '+447700900555' })).toEqual({ kind: 'number', number: '+447700900555' });
    expect(dialTarget({})).toBeUndefined();
    expect(dialTarget(undefined)).toBeUndefined();
    expect([isDiallable(STAFF.get('ghost')), isDiallable(STAFF.get('phoned')), isDiallable(STAFF.get('client')), isDiallable(undefined)]).toEqual([false, true, true, false]);
  });

  it('matters on dial and redirect routes, not on TaskRouter', () => {
    expect([dialsNamedStaff(DIAL), dialsNamedStaff(REDIRECT), dialsNamedStaff(ENQUEUE)]).toEqual([true, true, false]);
  });
});

describe('the staff API warnings', () => {
  it('name undiallable named contacts and deputies (and unknown staff) on routes that dial', () => {
    for (const route of [DIAL, REDIRECT, undefined]) {
      expect(namedContactWarnings(withNamed('ghost', 'phoned'), lookup, route).map((w) => w.staffIds)).toEqual([['ghost']]);
      expect(namedContactWarnings(withNamed('client', 'gone'), lookup, route).map((w) => w.staffIds)).toEqual([['gone']]);
      expect(namedContactWarnings(withNamed('client', 'phoned'), lookup, route)).toEqual([]);
    }
  });

  it('say what happens to calls by the first named-contact measure, the one calls are routed by', () => {
    const message = (measures: Array<[string, string?]>) =>
      namedContactWarnings(
        { measures: measures.map(([staffId, deputyId]) => ({ type: 'named-contact', staffId, ...(deputyId !== undefined ? { deputyId } : {}) })) } as Restriction,
        lookup,
        DIAL,
      )[0]?.message ?? '';
    // The first measure's deputy can be dialled: calls ring them, whatever a later measure lacks.
    expect(message([['ghost', 'phoned'], ['ghost']])).toContain('ring the deputy instead');
    expect(message([['ghost'], ['ghost', 'phoned']])).toContain('usual route');
    expect(message([['client', 'ghost'], ['ghost']])).toContain('voicemail instead of the deputy');
    expect(message([['client'], ['ghost']])).toContain('first named contact, who can be dialled');
  });

  it('are not given on a TaskRouter route, where the named contact is found as a worker', () => {
    expect(namedContactWarnings(withNamed('ghost', 'ghost'), lookup, ENQUEUE)).toEqual([]);
    expect(exceptionWarnings('voice', 'ghost', STAFF.get('ghost'), ENQUEUE)).toEqual([]);
    expect(exceptionWarnings('voice', 'ghost', STAFF.get('ghost'), DIAL).map((w) => w.code)).toEqual(['exception-staff-unreachable']);
    expect(exceptionWarnings('email', 'ghost', STAFF.get('ghost'), DIAL)).toEqual([]);
  });
});
