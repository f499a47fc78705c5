/**
 * What the voice hot path remembers and shares, behaving as if it did not: remembered TwiML plans are the
 * plans rendered afresh and cannot be changed through a copy, and the steps of a Deadline share one timer
 * that is gone once they have settled.
 */
import { Deadline } from '../../channels/voice/budget';
import { renderDecision, type VoiceRenderSettings } from '../../channels/voice/twiml';
import { BudgetExceededError } from '../../channels/voice/errors';
import type { Decision } from '../../rules/types';
import { parseTwiml } from '../integration/voice-support';

function settings(overrides: Partial<VoiceRenderSettings> = {}): VoiceRenderSettings {
  return { publicUrl: 'https://gk.example.org', emergencyNumber: '+441632960999', emergencyDigit: '1', defaultRoute: { kind: 'dial', number: '+441632960000' }, ...overrides };
}

const DEFLECT: Decision = {
  outcome: 'deflect',
  customerId: 'C1',
  restrictionId: 'R1',
  breach: true,
  reasons: ['written-only'],
  agentFlags: [],
  customerMessage: 'Thank you for contacting us. Please write to us.',
};

const NAMED: Decision = { outcome: 'proceed', customerId: 'C1', restrictionId: 'R1', routeTo: 'jsmith', breach: false, reasons: ['named-contact'], agentFlags: [] };
const JSMITH = { id: 'jsmith', name: 'J Smith', clientIdentity: 'jsmith-client' };
const AKHAN = { id: 'akhan', name: 'A Khan', phone: '+447700900002' };

describe('remembered TwiML plans', () => {
  it('are the same answer each time, and follow the message, the settings and the people', () => {
    const s = settings();
    const first = renderDecision(DEFLECT, {}, s);
    expect(renderDecision({ ...DEFLECT }, {}, s)).toEqual(first);
    expect(parseTwiml(first.twiml).children[1]?.text).toBe(DEFLECT.customerMessage);
    const other = renderDecision({ ...DEFLECT, customerMessage: 'Another message.' }, {}, s);
    expect(parseTwiml(other.twiml).children[1]?.text).toBe('Another message.');
    expect(renderDecision(DEFLECT, {}, settings({ emergencyDigit: '9' })).twiml).toContain('press 9 now');

    const named = renderDecision(NAMED, { routeTo: JSMITH, deputy: AKHAN }, s);
    expect(named.twiml).toContain('jsmith-client');
    expect(named.steps.deputy).toContain('+447700900002');
    const moved = renderDecision(NAMED, { routeTo: { ...JSMITH, clientIdentity: 'jsmith-new' } }, s);
    expect(moved.twiml).toContain('jsmith-new');
    expect(moved.steps.deputy).toBeUndefined();
  });

  it('cannot be changed through the copy a caller keeps', () => {
    const s = settings();
    const plan = renderDecision(NAMED, { routeTo: JSMITH, deputy: AKHAN }, s);
    const deputy = plan.steps.deputy;
    plan.steps.deputy = 'changed';
    delete plan.steps.voicemail;
    const again = renderDecision(NAMED, { routeTo: JSMITH, deputy: AKHAN }, s);
    expect(again.steps.deputy).toBe(deputy);
    expect(again.steps.voicemail).toContain('<Record');
  });
});

describe('Deadline', () => {
  it('runs its steps against one timer and clears it once they have settled', async () => {
    jest.useFakeTimers();
    try {
      const deadline = new Deadline(1000);
      const first = deadline.run('replay check', Promise.resolve('none'));
      const second = deadline.run('restriction lookup', Promise.resolve('someone'));
      expect(jest.getTimerCount()).toBe(1);
      await expect(Promise.all([first, second])).resolves.toEqual(['none', 'someone']);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails every step still waiting when the budget runs out, each named', async () => {
    jest.useFakeTimers();
    try {
      const deadline = new Deadline(100);
      const never = new Promise<string>(() => undefined);
      const first = deadline.run('replay check', never);
      const second = deadline.run('restriction lookup', never);
      jest.advanceTimersByTime(100);
      await expect(first).rejects.toEqual(expect.objectContaining({ step: 'replay check', code: 'budget-exceeded' }));
      await expect(second).rejects.toBeInstanceOf(BudgetExceededError);
      await expect(second).rejects.toMatchObject({ step: 'restriction lookup' });
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
