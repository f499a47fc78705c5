import fc from 'fast-check';

import { InvalidWebhookParamsError } from '../../channels/voice/errors';
import { parseGather, parseGatherQuery, parseIncoming, parseStatus, parseStatusQuery } from '../../channels/voice/params';
import { isFlagged, screenPopEvent } from '../../channels/voice/screen-pop';
import type { Decision } from '../../rules/types';

const SID = 'CA0123456789abcdef0123456789abcdef';

describe('webhook parameters', () => {
  it('reads an incoming call, ignoring parameters Twilio adds that we do not use', () => {
    expect(parseIncoming({ CallSid: SID, From: '+447700900123', To: '+441632960000', CallerCity: 'LONDON', StirVerstat: 'TN-Validation-Passed-A' })).toEqual({
      CallSid: SID,
      From: '+447700900123',
      To: '+441632960000',
    });
  });

  it('treats a missing From as withheld (empty), and refuses a missing or unsafe CallSid', () => {
    expect(parseIncoming({ CallSid: SID }).From).toBe('');
    expect(() => parseIncoming({ From: '+447700900123' })).toThrow(InvalidWebhookParamsError);
    for (const bad of ['CA 1', 'CA:1', 'CA{1}', '', 'x'.repeat(65)]) {
      expect(() => parseIncoming({ CallSid: bad })).toThrow(InvalidWebhookParamsError);
    }
  });

  it('refuses a repeated field (an array), which Twilio never sends', () => {
    expect(() => parseIncoming({ CallSid: [SID, SID] })).toThrow(expect.objectContaining({ code: 'invalid-params' }));
  });

  it('reads keypad digits, and only keypad digits', () => {
    expect(parseGather({ CallSid: SID, Digits: '1' }).Digits).toBe('1');
    expect(parseGather({ CallSid: SID }).Digits).toBeUndefined();
    expect(() => parseGather({ CallSid: SID, Digits: '1a' })).toThrow(InvalidWebhookParamsError);
  });

  it('reads status callbacks and verb results, with seconds as numbers', () => {
    expect(parseStatus({ CallSid: SID, CallStatus: 'completed', CallDuration: '65' })).toMatchObject({ CallStatus: 'completed', CallDuration: 65 });
    expect(parseStatus({ CallSid: SID, DialCallStatus: 'answered', DialCallDuration: '7' })).toMatchObject({ DialCallStatus: 'answered', DialCallDuration: 7 });
    expect(() => parseStatus({ CallSid: SID, CallStatus: 'exploded' })).toThrow(InvalidWebhookParamsError);
    expect(() => parseStatus({ CallSid: SID, CallDuration: '-1' })).toThrow(InvalidWebhookParamsError);
  });

  it('reads the status and gather query strings', () => {
    expect(parseStatusQuery({ step: 'named', staff: 'jsmith' })).toEqual({ step: 'named', staff: 'jsmith' });
    expect(parseStatusQuery({})).toEqual({});
    expect(() => parseStatusQuery({ step: 'elsewhere' })).toThrow(InvalidWebhookParamsError);
    expect(parseGatherQuery({ then: 'route' })).toEqual({ then: 'route' });
    expect(() => parseGatherQuery({ then: 'hangup' })).toThrow(InvalidWebhookParamsError);
  });

  it('never throws anything but InvalidWebhookParamsError, whatever the body (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('CallSid', 'From', 'Digits', 'CallStatus', 'CallDuration', 'Other'), fc.oneof(fc.string(), fc.array(fc.string()))), (body) => {
        for (const parse of [parseIncoming, parseGather, parseStatus]) {
          try {
            parse(body);
          } catch (error) {
            if (!(error instanceof InvalidWebhookParamsError)) return false;
          }
        }
        return true;
      }),
    );
  });
});

describe('screen-pops', () => {
  const base: Decision = { outcome: 'proceed', reasons: ['no-restriction'], agentFlags: [], customerId: 'C1' };

  it('pop for a restricted, ambiguous or unchecked caller only', () => {
    expect(isFlagged(base)).toBe(false);
    expect(isFlagged({ ...base, reasons: ['unidentified'] })).toBe(false);
    expect(isFlagged({ ...base, restrictionId: 'R1', reasons: [] })).toBe(true);
    expect(isFlagged({ ...base, reasons: ['ambiguous-identity'] })).toBe(true);
    expect(isFlagged({ ...base, reasons: ['restriction-check-unavailable'] })).toBe(true);
  });

  it('carry the decision and the contact id, never a number', () => {
    const decision: Decision = { outcome: 'deflect', customerId: 'C1', restrictionId: 'R1', reasons: ['outside-call-times'], agentFlags: ['Calls Tue only'], customerMessage: 'Call us on +441632960999' };
    const event = screenPopEvent(decision, SID, new Date('2025-11-24T15:00:00Z'));
    expect(event).toEqual({
      type: 'screen-pop',
      channel: 'voice',
      customerId: 'C1',
      restrictionId: 'R1',
      outcome: 'deflect',
      reasons: ['outside-call-times'],
      agentFlags: ['Calls Tue only'],
      at: '2025-11-24T15:00:00.000Z',
      contactId: SID,
    });
    expect(JSON.stringify(event)).not.toContain('+44');
  });
});
