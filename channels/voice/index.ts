/**
 * channels/voice — the Twilio voice adapter: webhook parameters in, TwiML out. It translates and never
 * decides: a call becomes a `Contact`, `rules/decide` makes the one decision, and the decision becomes
 * TwiML. The HTTP side (body, signature, answers) is `gateway/voice-webhooks.ts`.
 *
 * Reading order, following a call:
 * - `signature.ts` — is this request Twilio's? (`X-Twilio-Signature` against `PUBLIC_URL` + path + query)
 * - `params.ts` — Twilio's form parameters, parsed
 * - `call-flow.ts` — the webhooks as plain functions: lookup within the budget, decide, render, replay
 * - `identify.ts`, `budget.ts` — who is calling, within a hard time budget
 * - `call-context.ts`, `twiml.ts`, `prompts.ts` — the decision as TwiML, and the words spoken
 * - `call-session.ts` — one record per CallSid: replays for retried webhooks, the plan for follow-ups
 * - `evidence.ts`, `screen-pop.ts`, `background.ts` — contact history, audit and screen-pops, written
 *   after the caller has been answered
 */
export { BackgroundTasks, type BackgroundFailureHandler } from './background';
export { Deadline, withinBudget } from './budget';
export { callContext } from './call-context';
export {
  EVIDENCE_BACKLOG_LIMIT,
  VoiceCallFlow,
  type DecideFn,
  type StatusAnswer,
  type UndialledRouting,
  type VoiceFlowDeps,
  type VoiceFlowSettings,
  type VoiceLogger,
} from './call-flow';
export { CALL_SESSION_TTL_S, RedisCallSessions, callSessionKey, type CallSession, type CallSessionStore, type ClaimResult } from './call-session';
export { BudgetExceededError, InvalidWebhookParamsError, VoiceConfigError, VoiceError } from './errors';
export { VoiceEvidence, type AuditRecorder, type CallDecisionRecord, type ContactRecorder, type EvidenceSinks } from './evidence';
export { identifyCaller, type CallerIdentity, type CallerLookup } from './identify';
export { EVENTS_CHANNEL, isFlagged, publishScreenPop, screenPopEvent, type EventPublisher, type ScreenPopEvent } from './screen-pop';
export { expectedSignature, isValidTwilioSignature, signedUrlCandidates, splitPublicUrl, twilioSignatureCheck, type SignatureVerdict, type TwilioSignatureOptions, type WebhookParams } from './signature';
export {
  dialTarget,
  dialsNamedStaff,
  isDiallable,
  renderDecision,
  renderEmergency,
  renderSafeRoute,
  renderVoicemail,
  taskAttributes,
  uncheckedDecision,
  type CallContext,
  type CallPlan,
  type DialContact,
  type DialTarget,
  type TaskAttributes,
  type VoiceRenderSettings,
} from './twiml';
