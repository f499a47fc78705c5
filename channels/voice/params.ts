/**
 * Twilio's webhook form parameters, parsed with zod into typed objects. Only what Gatekeeper uses is
 * declared; Twilio adds parameters over time and unknown ones are ignored, never refused.
 *
 * A request whose signature is valid came from Twilio, so `/voice/incoming` and `/voice/gather` never answer
 * a parse failure with an error: they answer with safe TwiML (emergency option, then the normal route). Only
 * a status callback, which needs no TwiML, is refused with 400 `invalid-params`.
 */
import { z } from 'zod';

import { InvalidWebhookParamsError } from './errors';

/**
 * Twilio's CallSid is `CA` + 32 hex digits. The schema is looser (any short token of safe characters)
 * because the value is only an opaque key here; what matters is that it cannot smuggle `:` or spaces into a
 * Redis key or a log line.
 */
const callSid = z.string().regex(/^[A-Za-z0-9_-]{2,64}$/, 'CallSid must be a short token');

const CALL_STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
/** A call's (or a dialled leg's) status as Twilio reports it. */
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Twilio reports seconds as a decimal string. */
const seconds = z
  .string()
  .regex(/^\d{1,9}$/, 'must be whole seconds')
  .transform((s) => Number(s));

const optionalText = z.string().max(256).optional();

const incomingSchema = z.object({
  CallSid: callSid,
  /** The caller ID as Twilio presents it: E.164, a withheld marker, or empty. */
  From: z.string().max(64).default(''),
  To: optionalText,
  AccountSid: optionalText,
  CallStatus: z.enum(CALL_STATUSES).optional(),
  Direction: optionalText,
});
/** `POST /voice/incoming`: a call arrives. */
export type IncomingCallParams = z.infer<typeof incomingSchema>;

const gatherSchema = incomingSchema.extend({
  /** The keys pressed; absent or empty when the caller pressed nothing. */
  Digits: z
    .string()
    .regex(/^[0-9*#]{0,32}$/, 'Digits must be keypad characters')
    .optional(),
});
/** `POST /voice/gather`: the caller pressed a key during a `<Gather>`. */
export type GatherParams = z.infer<typeof gatherSchema>;

const statusSchema = incomingSchema.extend({
  CallDuration: seconds.optional(),
  /** `<Dial action>` results (`answered`/`completed`: the dialled party picked up). */
  DialCallStatus: z.enum([...CALL_STATUSES, 'answered']).optional(),
  DialCallSid: optionalText,
  DialCallDuration: seconds.optional(),
  /** `<Enqueue action>` result: `bridged` when an agent took the call. */
  QueueResult: optionalText,
  QueueTime: seconds.optional(),
  /** `<Record action>` results. */
  RecordingSid: optionalText,
  RecordingUrl: z.string().max(512).optional(),
  RecordingDuration: seconds.optional(),
});
/** `POST /voice/status`: a status callback, or the result of a `<Dial>`, `<Enqueue>` or `<Record>`. */
export type StatusParams = z.infer<typeof statusSchema>;

/**
 * What a `/voice/status` request reports, from its query string: absent for the call's own status callback,
 * else the step of the call plan whose verb finished (see twiml.ts).
 */
export const STATUS_STEPS = ['named', 'deputy', 'route', 'voicemail'] as const;
export type StatusStep = (typeof STATUS_STEPS)[number];

/** A staff id as it travels in a webhook's query string. */
const staffParam = z
  .string()
  .regex(/^[A-Za-z0-9._@-]{1,128}$/)
  .optional();

const statusQuerySchema = z.object({
  step: z.enum(STATUS_STEPS).optional(),
  /** The staff member the step was for (named contact, deputy, or voicemail owner). */
  staff: staffParam,
});
export type StatusQuery = z.infer<typeof statusQuerySchema>;

/**
 * `/voice/gather?then=route`: after a non-emergency key, continue to the normal route; `?then=voicemail&staff=`:
 * to the voicemail of `staff` (the offer in front of a voicemail); else replay the call's TwiML.
 */
const gatherQuerySchema = z.object({ then: z.enum(['route', 'voicemail']).optional(), staff: staffParam });
export type GatherQuery = z.infer<typeof gatherQuerySchema>;

function parseWith<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new InvalidWebhookParamsError(result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`));
}

/**
 * Parses `/voice/incoming` parameters.
 * @throws InvalidWebhookParamsError `invalid-params`
 */
export function parseIncoming(body: unknown): IncomingCallParams {
  return parseWith(incomingSchema, body);
}

/**
 * Parses `/voice/gather` parameters.
 * @throws InvalidWebhookParamsError `invalid-params`
 */
export function parseGather(body: unknown): GatherParams {
  return parseWith(gatherSchema, body);
}

/**
 * Parses `/voice/status` parameters.
 * @throws InvalidWebhookParamsError `invalid-params`
 */
export function parseStatus(body: unknown): StatusParams {
  return parseWith(statusSchema, body);
}

/**
 * Parses the query string of `/voice/status` (which step of the call plan reports).
 * @throws InvalidWebhookParamsError `invalid-params`
 */
export function parseStatusQuery(query: unknown): StatusQuery {
  return parseWith(statusQuerySchema, query);
}

/**
 * Parses the query string of `/voice/gather`.
 * @throws InvalidWebhookParamsError `invalid-params`
 */
export function parseGatherQuery(query: unknown): GatherQuery {
  return parseWith(gatherQuerySchema, query);
}
