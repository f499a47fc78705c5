import fc from 'fast-check';

import { callContext } from '../../channels/voice/call-context';
import {
  renderDecision,
  renderEmergency,
  renderReplay,
  renderRouteOnly,
  renderSafeRoute,
  renderVoicemail,
  taskAttributes,
  type VoiceRenderSettings,
} from '../../channels/voice/twiml';
import type { VoiceRoute } from '../../config/env';
import { REASON_CODES, type Decision, type GateSnapshot, type Identification } from '../../rules/types';
import { allNodes, emergencySentence, parseTwiml, verbs, type TwimlNode } from '../integration/voice-support';

const DIAL: VoiceRoute = { kind: 'dial', number: '+441632960000' };
const ENQUEUE: VoiceRoute = { kind: 'enqueue', workflowSid: 'WW0123456789abcdef0123456789abcdef' };
const REDIRECT: VoiceRoute = { kind: 'redirect', url: 'https://ivr.example.org/twiml' };

function settings(defaultRoute: VoiceRoute = DIAL, overrides: Partial<VoiceRenderSettings> = {}): VoiceRenderSettings {
  return { publicUrl: 'https://gk.example.org', emergencyNumber: '+441632960999', emergencyDigit: '1', defaultRoute, ...overrides };
}

const DEFLECT: Decision = {
  outcome: 'deflect',
  customerId: 'C100',
  restrictionId: 'R1',
  nextAllowedAt: '2025-11-25T10:00:00Z',
  breach: true,
  reasons: ['outside-call-times'],
  agentFlags: ['Calls Tue 10:00–12:00 only'],
  customerMessage: 'Thank you for calling. You can call us on Tuesday 25 November between 10am and 12 noon.',
};

const snapshot: GateSnapshot = {
  customerId: 'C100',
  name: 'Pat Example',
  needs: [],
  restrictions: [
    {
      id: 'R1',
      status: 'active',
      measures: [{ type: 'named-contact', staffId: 'jsmith', deputyId: 'akhan' }],
      reviewAt: '2026-03-01T00:00:00.000Z',
      adjustments: [],
      exceptions: [],
      appealed: false,
    },
  ],
  staff: {
    jsmith: { id: 'jsmith', name: 'J Smith', clientIdentity: 'jsmith-client', phone: '+447700900001' },
    akhan: { id: 'akhan', name: 'A Khan', phone: '+447700900002' },
  },
};
const resolved: Identification = { kind: 'resolved', snapshot };
const NAMED: Decision = {
  outcome: 'proceed',
  customerId: 'C100',
  restrictionId: 'R1',
  routeTo: 'jsmith',
  breach: false,
  reasons: ['named-contact'],
  agentFlags: ['Named contact: J Smith (deputy: A Khan)'],
};

function only(node: TwimlNode, name: string): TwimlNode {
  const found = allNodes(node).filter((n) => n.name === name);
  expect(found).toHaveLength(1);
  return found[0] as TwimlNode;
}

describe('deflection', () => {
  const twiml = parseTwiml(renderDecision(DEFLECT, {}, settings()).twiml);

  it('is answered: Gather (emergency offer first), then Say the next time, then Hangup — never Reject', () => {
    expect(verbs(twiml)).toEqual(['Gather', 'Say', 'Hangup']);
    expect(allNodes(twiml).map((n) => n.name)).not.toContain('Reject');
    const gather = twiml.children[0] as TwimlNode;
    expect(gather.attrs).toMatchObject({ numDigits: '1', action: '/voice/gather', method: 'POST' });
    expect(gather.children[0]?.name).toBe('Say');
    expect(gather.children[0]?.text).toBe(emergencySentence('1'));
    expect(twiml.children[1]?.text).toBe(DEFLECT.customerMessage);
  });

  it('speaks British English on every Say', () => {
    for (const say of allNodes(twiml).filter((n) => n.name === 'Say')) {
      expect(say.attrs).toMatchObject({ voice: 'Polly.Amy', language: 'en-GB' });
    }
  });

  it('offers the configured emergency digit, and puts a PUBLIC_URL path prefix in front of the action', () => {
    const custom = parseTwiml(renderDecision(DEFLECT, {}, settings(DIAL, { emergencyDigit: '9', publicUrl: 'https://x.example.org/gk/' })).twiml);
    const gather = custom.children[0] as TwimlNode;
    expect(gather.children[0]?.text).toBe(emergencySentence('9'));
    expect(gather.attrs.action).toBe('/gk/voice/gather');
  });

  it('falls back to the written route when the decision carries no message', () => {
    const bare: Decision = { ...DEFLECT, reasons: ['written-only'] };
    delete bare.customerMessage;
    const t = parseTwiml(renderDecision(bare, {}, settings()).twiml);
    expect(t.children[1]?.text).toMatch(/write to us/);
  });
});

describe('emergency', () => {
  it('dials EMERGENCY_NUMBER', () => {
    for (const xml of [renderEmergency(settings()), renderDecision({ ...DEFLECT, outcome: 'emergency', reasons: ['emergency'] }, {}, settings()).twiml]) {
      const t = parseTwiml(xml);
      expect(only(t, 'Dial').text).toBe('+441632960999');
      expect(allNodes(t).map((n) => n.name)).not.toContain('Reject');
    }
  });
});

describe('normal route', () => {
  const plain: Decision = { outcome: 'proceed', reasons: ['no-restriction'], agentFlags: [], customerId: 'C9', breach: false };

  it('dials the default number, coming back to /voice/status?step=route', () => {
    const t = parseTwiml(renderDecision(plain, {}, settings(DIAL)).twiml);
    expect(verbs(t)).toEqual(['Dial']);
    expect(t.children[0]?.text).toBe('+441632960000');
    expect(t.children[0]?.attrs.action).toBe('/voice/status?step=route');
  });

  it('enqueues to the TaskRouter workflow with the decision as task attributes', () => {
    const t = parseTwiml(renderDecision(plain, {}, settings(ENQUEUE)).twiml);
    const enqueue = only(t, 'Enqueue');
    expect(enqueue.attrs.workflowSid).toBe(ENQUEUE.kind === 'enqueue' ? ENQUEUE.workflowSid : '');
    const task = JSON.parse(only(t, 'Task').text) as Record<string, unknown>;
    expect(task).toMatchObject({ type: 'inbound-call', outcome: 'proceed', reasons: ['no-restriction'], customerId: 'C9' });
  });

  it('redirects to another TwiML application', () => {
    const t = parseTwiml(renderDecision(plain, {}, settings(REDIRECT)).twiml);
    expect(verbs(t)).toEqual(['Redirect']);
    expect(t.children[0]?.text).toBe('https://ivr.example.org/twiml');
  });

  it('carries restriction flags, id and review date to TaskRouter for a restricted caller inside their window', () => {
    const inWindow: Decision = { outcome: 'proceed', customerId: 'C100', restrictionId: 'R1', reasons: [], agentFlags: ['Calls Tue 10:00–12:00 only'], breach: false };
    const t = parseTwiml(renderDecision(inWindow, callContext(inWindow, resolved), settings(ENQUEUE)).twiml);
    expect(JSON.parse(only(t, 'Task').text)).toMatchObject({
      restrictionId: 'R1',
      reviewAt: '2026-03-01T00:00:00.000Z',
      agentFlags: ['Calls Tue 10:00–12:00 only'],
    });
  });
});

describe('restriction check unavailable', () => {
  const unchecked: Decision = { outcome: 'proceed', reasons: ['restriction-check-unavailable'], agentFlags: ['Restriction check unavailable'], breach: false };

  it('offers the emergency digit briefly, then takes the normal route', () => {
    for (const route of [DIAL, ENQUEUE, REDIRECT]) {
      const t = parseTwiml(renderDecision(unchecked, {}, settings(route)).twiml);
      expect(verbs(t)[0]).toBe('Gather');
      expect(t.children[0]?.children[0]?.text).toBe(emergencySentence());
      expect(t.children[0]?.attrs.action).toBe('/voice/gather?then=route');
      expect(verbs(t).slice(1)).toEqual([{ dial: 'Dial', enqueue: 'Enqueue', redirect: 'Redirect' }[route.kind]]);
    }
  });

  it('is also the static safe answer (fallback URL, any failure)', () => {
    const t = parseTwiml(renderSafeRoute(settings(ENQUEUE)));
    expect(verbs(t)).toEqual(['Gather', 'Enqueue']);
    expect(t.children[0]?.children[0]?.text).toBe(emergencySentence());
    expect(JSON.parse(only(t, 'Task').text)).toMatchObject({ reasons: ['restriction-check-unavailable'] });
  });

  it('continues to the route after another key', () => {
    expect(verbs(parseTwiml(renderRouteOnly(settings())))).toEqual(['Dial']);
  });
});

describe('named contact', () => {
  it('dials their Client identity, then the deputy, then voicemail for the named contact', () => {
    const plan = renderDecision(NAMED, callContext(NAMED, resolved), settings(DIAL));
    const first = parseTwiml(plan.twiml);
    expect(verbs(first)).toEqual(['Dial']);
    expect(first.children[0]?.attrs.action).toBe('/voice/status?step=named&staff=jsmith');
    expect(only(first, 'Client').text).toBe('jsmith-client');

    const deputy = parseTwiml(plan.steps.deputy ?? '');
    expect(only(deputy, 'Number').text).toBe('+447700900002');
    expect(deputy.children[0]?.attrs.action).toBe('/voice/status?step=deputy&staff=jsmith');

    // The emergency offer first, then the voicemail (another key goes on to it, without the offer).
    const voicemail = parseTwiml(plan.steps.voicemail ?? '');
    expect(verbs(voicemail)).toEqual(['Gather', 'Say', 'Record', 'Say', 'Hangup']);
    expect(voicemail.children[0]?.attrs.action).toBe('/voice/gather?then=voicemail&staff=jsmith');
    expect(voicemail.children[0]?.children[0]?.text).toMatch(/^If you are calling about an emergency/);
    expect(voicemail.children[1]?.text).toContain('J Smith');
    expect(voicemail.children[2]?.attrs.action).toBe('/voice/status?step=voicemail&staff=jsmith');
  });

  it('dials a number when the named contact has no Client identity; no deputy step without a deputy', () => {
    const decision: Decision = { ...NAMED, routeTo: 'akhan' };
    const plan = renderDecision(decision, callContext(decision, resolved), settings(DIAL));
    expect(only(parseTwiml(plan.twiml), 'Number').text).toBe('+447700900002');
    expect(plan.steps.deputy).toBeUndefined();
    expect(plan.steps.voicemail).toBeDefined();
  });

  it('enqueues with known-agent routing when the route is TaskRouter', () => {
    const t = parseTwiml(renderDecision(NAMED, callContext(NAMED, resolved), settings(ENQUEUE)).twiml);
    expect(verbs(t)).toEqual(['Enqueue']);
    expect(JSON.parse(only(t, 'Task').text)).toMatchObject({
      restrictionId: 'R1',
      reviewAt: '2026-03-01T00:00:00.000Z',
      routeTo: 'jsmith',
      knownWorker: 'jsmith-client',
      namedContact: { id: 'jsmith', name: 'J Smith' },
      deputy: { id: 'akhan', name: 'A Khan' },
      agentFlags: NAMED.agentFlags,
    });
  });

  it('takes the normal route when the named contact cannot be reached by phone', () => {
    const noContact: Identification = {
      kind: 'resolved',
      snapshot: { ...snapshot, staff: { jsmith: { id: 'jsmith', name: 'J Smith' } } },
    };
    const t = parseTwiml(renderDecision(NAMED, callContext(NAMED, noContact), settings(DIAL)).twiml);
    expect(verbs(t)).toEqual(['Dial']);
    expect(t.children[0]?.text).toBe('+441632960000');
  });

  it('routes a one-off exception to the member of staff who arranged it, without the deputy', () => {
    const withException: Identification = {
      kind: 'resolved',
      snapshot: { ...snapshot, staff: { ...snapshot.staff, tspec: { id: 'tspec', name: 'T Spec', clientIdentity: 'tspec-client' } } },
    };
    const decision: Decision = { ...NAMED, routeTo: 'tspec', exceptionId: 'X1' };
    const context = callContext(decision, withException);
    expect(context.deputy).toBeUndefined();
    const plan = renderDecision(decision, context, settings(DIAL));
    expect(only(parseTwiml(plan.twiml), 'Client').text).toBe('tspec-client');
    expect(plan.steps.deputy).toBeUndefined();
    expect(taskAttributes(decision, context)).toMatchObject({ exceptionId: 'X1', knownWorker: 'tspec-client' });
  });
});

describe('other answers', () => {
  it('voicemail renders without a name when the call plan is lost', () => {
    const t = parseTwiml(renderVoicemail(settings(), { id: 'jsmith' }));
    expect(t.children[1]?.text).toContain('the person who deals with your calls');
    // Without the offer (after a key other than the emergency digit): the voicemail alone.
    const onward = parseTwiml(renderVoicemail(settings(), { id: 'jsmith' }, false));
    expect(verbs(onward)).toEqual(['Say', 'Record', 'Say', 'Hangup']);
  });

  it('replay says so and goes back to /voice/incoming', () => {
    const t = parseTwiml(renderReplay(settings()));
    expect(verbs(t)).toEqual(['Say', 'Redirect']);
    expect(t.children[1]?.text).toBe('/voice/incoming');
  });
});

describe('any decision (property)', () => {
  const reason = fc.constantFrom(...REASON_CODES);
  const hostile = fc.oneof(fc.string(), fc.constant('<Reject/>'), fc.constant(']]></Say><Reject/><Say>'), fc.constant('& < > " \''));
  const decision = fc.record({
    outcome: fc.constantFrom('proceed', 'deflect', 'emergency' as const),
    reasons: fc.array(reason, { maxLength: 3 }),
    agentFlags: fc.array(hostile, { maxLength: 3 }),
    customerMessage: hostile,
    routeTo: fc.option(fc.constantFrom('jsmith', 'akhan', 'nobody'), { nil: undefined }),
  });
  const route = fc.constantFrom(DIAL, ENQUEUE, REDIRECT);

  it('never rejects, always parses, and offers the emergency digit first to deflected and unchecked callers', () => {
    fc.assert(
      fc.property(decision, route, (raw, r) => {
        const d: Decision = { ...raw, customerId: 'C100', restrictionId: 'R1' };
        if (d.routeTo === undefined) delete d.routeTo;
        const plan = renderDecision(d, callContext(d, resolved), settings(r));
        for (const xml of [plan.twiml, plan.steps.deputy, plan.steps.voicemail]) {
          if (xml === undefined) continue;
          const t = parseTwiml(xml);
          if (allNodes(t).some((n) => n.name === 'Reject')) return false;
        }
        const t = parseTwiml(plan.twiml);
        const offered = t.children[0]?.name === 'Gather' && t.children[0].children[0]?.text === emergencySentence();
        if (d.outcome === 'deflect') return offered && verbs(t).join() === 'Gather,Say,Hangup' && t.children[1]?.text === d.customerMessage?.trim();
        if (d.outcome === 'emergency') return only(t, 'Dial').text === '+441632960999';
        if (d.reasons.includes('restriction-check-unavailable')) return offered;
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
