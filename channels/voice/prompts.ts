/**
 * Everything Gatekeeper says on the phone, in plain British English. Kept in one place so the wording can
 * be reviewed (and, one day, translated) without reading the TwiML code. The deflection message itself
 * (the next permitted day and time, or the written route) comes from `rules/customer-message.ts` through
 * the decision, so calls, letters and emails say the same thing.
 */

/**
 * The first sentence every restricted or unchecked caller hears (DESIGN.md §3, policy §5: "make
 * provision for the reporting of emergencies").
 */
export function emergencyOffer(digit: string): string {
  return `If you are calling about an emergency such as a gas leak, fire, flood, or someone at risk, press ${digit} now.`;
}

/** Said before connecting the emergency line. */
export const CONNECTING_EMERGENCY = 'Putting you through to our emergency line now.';

/** Said to a deflected caller when the decision carries no message of its own. */
export const NOT_NOW_FALLBACK = 'Thank you for calling. We are not able to take your call at the moment. Please write to us instead.';

/** Said when a caller presses a key that is not the emergency digit. */
export const NOT_THE_EMERGENCY_DIGIT = 'That was not the emergency option.';

/** Said before the named contact's voicemail. */
export function voicemailPrompt(staffName: string | undefined): string {
  const who = staffName ?? 'the person who deals with your calls';
  return `Sorry, ${who} is not available to take your call. Please leave a message after the tone, then hang up.`;
}

/** Said when the voicemail recorded nothing. */
export const NO_MESSAGE_RECORDED = 'We did not receive a message. Goodbye.';

/** Said after a voicemail was recorded. */
export const MESSAGE_RECORDED = 'Thank you. Your message has been recorded. Goodbye.';

/** Said when the normal route did not answer. */
export const NO_ANSWER = 'Sorry, nobody was able to take your call. Please try again later. Goodbye.';
