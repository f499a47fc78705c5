/**
 * Decision → TwiML, and nothing else: pure functions over the twilio library's `VoiceResponse` (which
 * escapes every attribute and text node; TwiML is never built by string concatenation here).
 *
 * What a caller hears, by decision (DESIGN.md §3–§4, "Voice TwiML"):
 *
 * | decision | TwiML |
 * |---|---|
 * | `emergency` | `<Dial>` to `EMERGENCY_NUMBER` |
 * | `deflect` | `<Gather numDigits="1">` offering the emergency digit, then `<Say>` the next permitted time or the written route, then `<Hangup/>` — never `<Reject>` |
 * | `proceed` + `restriction-check-unavailable` | a short emergency `<Gather>`, then the normal route |
 * | `proceed` + `routeTo` (named contact or one-off exception), route `enqueue` | `<Enqueue workflowSid>` with `<Task>` attributes naming the known worker |
 * | `proceed` + `routeTo`, route `dial`/`redirect` | `<Dial>` the named contact (`<Client>` or `<Number>`); then the deputy; then voicemail for the named contact |
 * | the same, when the named contact has neither a client identity nor a number | `<Dial>` the deputy, then voicemail for the named contact; with no deputy to dial, the normal route. The plan names them (`undialledStaffId`) so the flow can log and count it |
 * | `proceed` otherwise | the normal route (`VOICE_DEFAULT_ROUTE`), with the flags in `<Task>` attributes when it is TaskRouter |
 *
 * The named-contact chain needs Twilio to come back after each `<Dial>`: each `<Dial action>` points at
 * `/voice/status?step=…`, which answers with the next step's TwiML. Those steps are rendered here, up
 * front, together with the first answer (a {@link CallPlan}), and kept with the call's replay record, so the
 * follow-up webhooks need no second restriction lookup.
 */
import twilio from 'twilio';

import type { VoiceRoute } from '../../config/env';
import type { Decision, StaffRef } from '../../rules/types';
import {
  CONNECTING_EMERGENCY,
  MESSAGE_RECORDED,
  NO_ANSWER,
  NO_MESSAGE_RECORDED,
  NOT_NOW_FALLBACK,
  NOT_THE_EMERGENCY_DIGIT,
  emergencyOffer,
  voicemailPrompt,
} from './prompts';
import { splitPublicUrl } from './signature';

const { VoiceResponse } = twilio.twiml;
type Response = InstanceType<typeof VoiceResponse>;

/** Every `<Say>` speaks British English. */
const SAY = { voice: 'Polly.Amy', language: 'en-GB' } as const;

/** Seconds a deflected caller has, after the offer, to press the emergency digit. */
const DEFLECT_GATHER_TIMEOUT_S = 4;
/** Seconds an unchecked caller has to press the emergency digit before the normal route: brief, they are going through anyway. */
const BRIEF_GATHER_TIMEOUT_S = 2;
/** How long the named contact and the deputy each ring. */
const NAMED_RING_S = 20;
/** An emergency line is given longer to answer than anyone else. */
const EMERGENCY_RING_S = 60;
/** Longest voicemail, in seconds. */
const VOICEMAIL_MAX_S = 180;

/** What the renderer needs from configuration. */
export interface VoiceRenderSettings {
  /** `PUBLIC_URL`; its path prefix (if any) is put in front of every webhook URL in the TwiML. */
  publicUrl: string;
  /** `EMERGENCY_NUMBER`, E.164. */
  emergencyNumber: string;
  /** `EMERGENCY_DIGIT`, one keypad key. */
  emergencyDigit: string;
  /** `VOICE_DEFAULT_ROUTE`. */
  defaultRoute: VoiceRoute;
}

/** What the caller's snapshot adds to a decision for rendering: the people named in it and the review date. */
export interface CallContext {
  /** The staff member the decision routes to (`decision.routeTo`), if the snapshot knows how to reach them. */
  routeTo?: StaffRef;
  /** The named contact's deputy, when the routing is by a named-contact measure that has one. */
  deputy?: StaffRef;
  /** Review date of the restriction that applies, for agents. */
  reviewAt?: string;
}

/** The answer to `/voice/incoming`, with the follow-up steps the `<Dial action>`s will ask for. */
export interface CallPlan {
  twiml: string;
  steps: {
    /** Answer to `/voice/status?step=named` when the named contact did not answer. */
    deputy?: string;
    /** Answer when neither the named contact nor the deputy answered. */
    voicemail?: string;
  };
  /**
   * Set when the decision routed the call to a member of staff (a named contact, or whoever arranged a
   * one-off exception) who cannot be dialled ({@link dialTarget}): their id. The plan is then the normal
   * route, and the flow says so in the log and the metrics — the caseworker expects the call to reach them.
   */
  undialledStaffId?: string;
  /** Where such a call went instead: the named contact's deputy, or (when absent) the normal route. */
  undialledFallback?: 'deputy';
}

/** The JSON carried in `<Task>` for TaskRouter / Flex (the agent sees these as task attributes). */
export interface TaskAttributes {
  type: 'inbound-call';
  outcome: Decision['outcome'];
  reasons: Decision['reasons'];
  agentFlags: string[];
  customerId?: string;
  restrictionId?: string;
  reviewAt?: string;
  exceptionId?: string;
  routeTo?: string;
  /** Known-agent routing: the TaskRouter workflow targets `task.knownWorker` (the worker's friendly name). */
  knownWorker?: string;
  namedContact?: { id: string; name: string };
  deputy?: { id: string; name: string };
}

function webhook(settings: VoiceRenderSettings, path: string, query?: Record<string, string | undefined>): string {
  const { pathPrefix } = splitPublicUrl(settings.publicUrl);
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) search.set(k, v);
  const qs = search.toString();
  return `${pathPrefix}${path}${qs === '' ? '' : `?${qs}`}`;
}

/**
 * The emergency offer: a `<Gather>` of one digit. Brief (a short wait) in front of a route the caller is on
 * their way to anyway — `then` says where another key goes (default: the normal route); otherwise the
 * deflection's offer, after which another key replays the call's answer.
 */
function offerEmergency(r: Response, settings: VoiceRenderSettings, brief: boolean, then: Record<string, string | undefined> = { then: 'route' }): void {
  const gather = r.gather({
    input: ['dtmf'],
    numDigits: 1,
    timeout: brief ? BRIEF_GATHER_TIMEOUT_S : DEFLECT_GATHER_TIMEOUT_S,
    action: brief ? webhook(settings, '/voice/gather', then) : webhook(settings, '/voice/gather'),
    method: 'POST',
  });
  gather.say(SAY, emergencyOffer(settings.emergencyDigit));
}

/** Builds the `<Task>` attributes for a decision. Exported for tests and for the agent console's reuse. */
export function taskAttributes(decision: Decision, context: CallContext = {}): TaskAttributes {
  const attrs: TaskAttributes = {
    type: 'inbound-call',
    outcome: decision.outcome,
    reasons: decision.reasons,
    agentFlags: decision.agentFlags,
  };
  if (decision.customerId !== undefined) attrs.customerId = decision.customerId;
  if (decision.restrictionId !== undefined) attrs.restrictionId = decision.restrictionId;
  if (context.reviewAt !== undefined) attrs.reviewAt = context.reviewAt;
  if (decision.exceptionId !== undefined) attrs.exceptionId = decision.exceptionId;
  if (decision.routeTo !== undefined) {
    attrs.routeTo = decision.routeTo;
    const who = context.routeTo;
    attrs.knownWorker = who?.clientIdentity ?? decision.routeTo;
    attrs.namedContact = { id: decision.routeTo, name: who?.name ?? decision.routeTo };
  }
  if (context.deputy !== undefined) attrs.deputy = { id: context.deputy.id, name: context.deputy.name };
  return attrs;
}

/** Appends the normal route; `decision` (when known) travels to TaskRouter as task attributes. */
function appendRoute(r: Response, settings: VoiceRenderSettings, decision: Decision, context: CallContext): void {
  const route = settings.defaultRoute;
  switch (route.kind) {
    case 'dial':
      r.dial({ action: webhook(settings, '/voice/status', { step: 'route' }), method: 'POST', answerOnBridge: true }, route.number);
      return;
    case 'enqueue': {
      const enqueue = r.enqueue({ workflowSid: route.workflowSid, action: webhook(settings, '/voice/status', { step: 'route' }), method: 'POST' });
      enqueue.task(JSON.stringify(taskAttributes(decision, context)));
      return;
    }
    case 'redirect':
      // Control passes to another TwiML application; it cannot carry our flags, the screen-pop does.
      r.redirect({ method: 'POST' }, route.url);
      return;
  }
}

/** How one member of staff is put through on a `<Dial>`. */
export type DialTarget = { kind: 'client'; identity: string } | { kind: 'number'; number: string };

/** What a dial target is chosen from: a staff reference in the caller's snapshot, or a staff record. */
export type DialContact = Pick<StaffRef, 'phone' | 'clientIdentity'>;

/**
 * How a member of staff is dialled: their Twilio Client identity in preference to their number, or
 * `undefined` when neither is on record (or the staff member is unknown). The one place this is decided:
 * the `<Dial>` itself, the call-time fallback and the staff API's warnings all ask here.
 */
export function dialTarget(who: DialContact | undefined): DialTarget | undefined {
  if (who?.clientIdentity !== undefined) return { kind: 'client', identity: who.clientIdentity };
  if (who?.phone !== undefined) return { kind: 'number', number: who.phone };
  return undefined;
}

/** Whether a member of staff can be dialled at all ({@link dialTarget}). */
export function isDiallable<T extends DialContact>(who: T | undefined): who is T {
  return dialTarget(who) !== undefined;
}

/**
 * Whether a call routed to a named member of staff (a named contact, whoever arranged a one-off exception) is
 * put through by `<Dial>`ing them — on `dial` and `redirect` routes. On an `enqueue` route it is not: the
 * task names the worker (`knownWorker`: their client identity, else their staff id; see {@link taskAttributes})
 * and TaskRouter finds them, so nobody needs a number there.
 */
export function dialsNamedStaff(route: VoiceRoute): boolean {
  return route.kind !== 'enqueue';
}

/** `<Dial>` one staff member at `target`. */
function dialStaff(r: Response, settings: VoiceRenderSettings, target: DialTarget, step: 'named' | 'deputy', namedId: string): void {
  const dial = r.dial({
    action: webhook(settings, '/voice/status', { step, staff: namedId }),
    method: 'POST',
    timeout: NAMED_RING_S,
    answerOnBridge: true,
  });
  if (target.kind === 'client') dial.client(target.identity);
  else dial.number(target.number);
}

/**
 * Voicemail for a named contact who (with their deputy) did not answer. Pure in the staff id and name, so
 * `/voice/status` can render it even when the call's plan cannot be read back.
 */
export function renderVoicemail(settings: VoiceRenderSettings, staff: { id: string; name?: string } | undefined, offer = true): string {
  const r = new VoiceResponse();
  // The emergency option comes first here too: a restricted caller whose named contact and deputy did not
  // answer may be calling about a gas leak, and a recorder is not a person. Another key goes on to the
  // voicemail (without the offer again).
  if (offer) offerEmergency(r, settings, true, { then: 'voicemail', staff: staff?.id });
  r.say(SAY, voicemailPrompt(staff?.name));
  r.record({
    action: webhook(settings, '/voice/status', { step: 'voicemail', staff: staff?.id }),
    method: 'POST',
    maxLength: VOICEMAIL_MAX_S,
    playBeep: true,
    finishOnKey: '#',
    trim: 'trim-silence',
  });
  // Reached only when nothing was recorded (Twilio then skips the action and reads on).
  r.say(SAY, NO_MESSAGE_RECORDED);
  r.hangup();
  return r.toString();
}

/**
 * Answers that depend on the settings alone, rendered once per settings object: most calls (unrestricted
 * and unknown callers on a dial or redirect route) hear one of these, and building XML is the costliest
 * pure step of the hot path.
 */
const constantAnswers = new WeakMap<VoiceRenderSettings, Map<string, string>>();

function once(settings: VoiceRenderSettings, name: string, render: () => string): string {
  let answers = constantAnswers.get(settings);
  if (answers === undefined) {
    answers = new Map();
    constantAnswers.set(settings, answers);
  }
  let twiml = answers.get(name);
  if (twiml === undefined) {
    twiml = render();
    answers.set(name, twiml);
  }
  return twiml;
}

/**
 * Answers that depend on the settings and a few strings of the decision (a deflection's message, the
 * named contact and deputy to dial), remembered per settings object: a restricted caller hears the same
 * answer call after call until their next window opens. Bounded; the oldest entry goes first.
 */
const REMEMBERED_PLANS = 1024;
const rememberedPlans = new WeakMap<VoiceRenderSettings, Map<string, CallPlan>>();

function remembered(settings: VoiceRenderSettings, key: string, render: () => CallPlan): CallPlan {
  let plans = rememberedPlans.get(settings);
  if (plans === undefined) {
    plans = new Map();
    rememberedPlans.set(settings, plans);
  }
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = render();
    if (plans.size >= REMEMBERED_PLANS) {
      const oldest = plans.keys().next();
      if (oldest.done !== true) plans.delete(oldest.value);
    }
    plans.set(key, plan);
  }
  // A copy: the caller keeps the plan with the call's session and must not be able to change the memory.
  return { twiml: plan.twiml, steps: { ...plan.steps } };
}

/** The fields of a staff reference that the TwiML uses, as part of a memory key. */
function staffKey(who: StaffRef | undefined): unknown[] {
  return who === undefined ? [] : [who.id, who.name, who.clientIdentity ?? null, who.phone ?? null];
}

/** The emergency line: `<Dial>` to `EMERGENCY_NUMBER`. Needs nothing but configuration. */
export function renderEmergency(settings: VoiceRenderSettings): string {
  return once(settings, 'emergency', () => {
    const r = new VoiceResponse();
    r.say(SAY, CONNECTING_EMERGENCY);
    r.dial({ timeout: EMERGENCY_RING_S }, settings.emergencyNumber);
    return r.toString();
  });
}

/** A decision that stands in when the real one could not be made (Redis down, a bug, bad parameters). */
export function uncheckedDecision(): Decision {
  return {
    outcome: 'proceed',
    reasons: ['restriction-check-unavailable'],
    agentFlags: ['Restriction check unavailable — follow the normal process and check the record'],
    breach: false,
  };
}

/**
 * The answer that needs no Redis and no decision: the emergency offer, then the normal route flagged
 * `restriction-check-unavailable`. Used for Twilio's fallback URL and whenever anything goes wrong.
 */
export function renderSafeRoute(settings: VoiceRenderSettings): string {
  const r = new VoiceResponse();
  offerEmergency(r, settings, true);
  appendRoute(r, settings, uncheckedDecision(), {});
  return r.toString();
}

/** The normal route alone (after a non-emergency key on the brief offer), flagged as unchecked. */
export function renderRouteOnly(settings: VoiceRenderSettings): string {
  const r = new VoiceResponse();
  appendRoute(r, settings, uncheckedDecision(), {});
  return r.toString();
}

/** After a key that is not the emergency digit on a deflection: say so, then hear the call's answer again. */
export function renderReplay(settings: VoiceRenderSettings): string {
  const r = new VoiceResponse();
  r.say(SAY, NOT_THE_EMERGENCY_DIGIT);
  r.redirect({ method: 'POST' }, webhook(settings, '/voice/incoming'));
  return r.toString();
}

/** Ends the call politely after a step that reached nobody. */
export function renderNoAnswer(): string {
  const r = new VoiceResponse();
  r.say(SAY, NO_ANSWER);
  r.hangup();
  return r.toString();
}

/** Ends the call after a recorded voicemail. */
export function renderMessageRecorded(): string {
  const r = new VoiceResponse();
  r.say(SAY, MESSAGE_RECORDED);
  r.hangup();
  return r.toString();
}

/** Ends the call (after a conversation that happened). */
export function renderHangup(): string {
  const r = new VoiceResponse();
  r.hangup();
  return r.toString();
}

/** An empty `<Response/>`: the acknowledgement of a status callback. */
export function renderEmpty(): string {
  return new VoiceResponse().toString();
}

/**
 * Renders a decision as the answer to `/voice/incoming`, with the named-contact follow-up steps.
 * @param decision from `rules/decide`.
 * @param context who `routeTo` and the deputy are, and the review date (from the caller's snapshot).
 */
export function renderDecision(decision: Decision, context: CallContext, settings: VoiceRenderSettings): CallPlan {
  if (decision.outcome === 'emergency') return { twiml: renderEmergency(settings), steps: {} };

  if (decision.outcome === 'deflect') {
    const message = decision.customerMessage ?? NOT_NOW_FALLBACK;
    return remembered(settings, `deflect\n${message}`, () => {
      const r = new VoiceResponse();
      offerEmergency(r, settings, false);
      r.say(SAY, message);
      r.hangup();
      return { twiml: r.toString(), steps: {} };
    });
  }

  if (decision.reasons.includes('restriction-check-unavailable')) {
    if (settings.defaultRoute.kind !== 'enqueue') {
      // The normal route carries nothing of the decision unless it is TaskRouter: one answer for all.
      return { twiml: once(settings, 'unchecked', () => renderUnchecked(settings, decision, context)), steps: {} };
    }
    return { twiml: renderUnchecked(settings, decision, context), steps: {} };
  }

  const named = decision.routeTo;
  // TaskRouter finds the named worker itself (known-agent routing); a <Dial> chain is for the other routes.
  if (named !== undefined && dialsNamedStaff(settings.defaultRoute)) {
    const routeTo = context.routeTo;
    const target = dialTarget(routeTo);
    if (routeTo === undefined || target === undefined) {
      // The named contact cannot be dialled. Their deputy stands in when they can be (the deputy is the
      // fallback for an unreachable named contact, whatever the reason), then the named contact's voicemail;
      // with no deputy to dial, the normal route, as for anyone else. Either way the plan says who was not reached.
      const deputy = dialTarget(context.deputy);
      if (deputy === undefined) return { twiml: once(settings, 'route', () => renderRouteOnly(settings)), steps: {}, undialledStaffId: named };
      // The named contact is in the key too: their name is in the voicemail's greeting.
      const key = JSON.stringify(['deputy-only', named, ...staffKey(routeTo), ...staffKey(context.deputy)]);
      const plan = remembered(settings, key, () => {
        const r = new VoiceResponse();
        dialStaff(r, settings, deputy, 'deputy', named);
        return { twiml: r.toString(), steps: { voicemail: renderVoicemail(settings, { id: named, name: routeTo?.name ?? named }) } };
      });
      return { ...plan, undialledStaffId: named, undialledFallback: 'deputy' };
    }
    const key = JSON.stringify(['named', named, ...staffKey(routeTo), ...staffKey(context.deputy)]);
    return remembered(settings, key, () => {
      const r = new VoiceResponse();
      dialStaff(r, settings, target, 'named', named);
      const steps: CallPlan['steps'] = { voicemail: renderVoicemail(settings, { id: named, name: routeTo.name }) };
      const deputy = dialTarget(context.deputy);
      if (deputy !== undefined) {
        const d = new VoiceResponse();
        dialStaff(d, settings, deputy, 'deputy', named);
        steps.deputy = d.toString();
      }
      return { twiml: r.toString(), steps };
    });
  }

  if (settings.defaultRoute.kind !== 'enqueue') {
    // A dial or redirect route carries nothing of the decision: the same answer for every such call.
    return { twiml: once(settings, 'route', () => renderRouteOnly(settings)), steps: {} };
  }
  const r = new VoiceResponse();
  appendRoute(r, settings, decision, context);
  return { twiml: r.toString(), steps: {} };
}

/** A call whose restrictions could not be checked: the brief emergency offer, then the normal route. */
function renderUnchecked(settings: VoiceRenderSettings, decision: Decision, context: CallContext): string {
  const r = new VoiceResponse();
  offerEmergency(r, settings, true);
  appendRoute(r, settings, decision, context);
  return r.toString();
}
