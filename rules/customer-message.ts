/**
 * What we tell a customer whose contact the restriction shapes: politely, when and how they can contact
 * us, and — always — how to report an emergency.
 */
import { speakWindow, formatLongDate } from './time-format';
import type { DecisionSettings } from './types';

/** The sentence that ends every customer message. */
export function emergencySentence(settings: Pick<DecisionSettings, 'emergencyNumber'>): string {
  return `If you need to report an emergency, such as a gas leak, fire, flood or someone at risk, call us on ${settings.emergencyNumber} at any time.`;
}

/** How to write to us, for callers who cannot be put through now. */
export function writtenRoute(settings: Pick<DecisionSettings, 'writeToAddress' | 'writeToEmail'>, channels: Array<'letter' | 'email'> = ['letter', 'email']): string {
  const routes: string[] = [];
  if (channels.includes('email')) routes.push(`email us at ${settings.writeToEmail}`);
  if (channels.includes('letter')) routes.push(`write to us at ${settings.writeToAddress}`);
  return routes.join(', or ');
}

/** For a caller outside their agreed call times. */
export function nextCallMessage(window: { start: Date; end: Date } | undefined, settings: DecisionSettings): string {
  const when = window
    ? `You can call us on ${speakWindow(window, settings.timeZone)}.`
    : 'We are not able to take your call at the moment.';
  return `Thank you for calling. ${when} You can also ${writtenRoute(settings)}. ${emergencySentence(settings)}`;
}

/** For a written-only customer who calls or visits. */
export function writtenOnlyMessage(channels: Array<'letter' | 'email'>, settings: DecisionSettings): string {
  return `Thank you for contacting us. As we agreed with you, please contact us in writing: ${writtenRoute(settings, channels)}. ${emergencySentence(settings)}`;
}

/** For a walk-in without an appointment. */
export function appointmentMessage(staffName: string, settings: DecisionSettings): string {
  return `Thank you for coming in. As we agreed with you, please make an appointment to see ${staffName}; you can ${writtenRoute(settings)}. ${emergencySentence(settings)}`;
}

/** For written contact: when we will respond, and what we will action. */
export function writtenContactMessage(
  parts: { respondAfter?: Date; wordLimit?: number; repeatOf?: { respondedAt: string; reference: string }; wrongChannel?: Array<'letter' | 'email'> },
  settings: DecisionSettings,
): string {
  const sentences = ['Thank you for your message, which we have received.'];
  if (parts.wrongChannel) sentences.push(`As we agreed with you, please ${writtenRoute(settings, parts.wrongChannel)} in future.`);
  if (parts.repeatOf) {
    sentences.push(
      `We have already responded to this matter on ${formatLongDate(new Date(parts.repeatOf.respondedAt), settings.timeZone)} ` +
        `(our reference ${parts.repeatOf.reference}), and we refer you to that response.`,
    );
  }
  if (parts.wordLimit !== undefined) {
    sentences.push(`Only the first ${parts.wordLimit} words of each message will be actioned.`);
  }
  if (parts.respondAfter) {
    sentences.push(`We will respond on or after ${formatLongDate(parts.respondAfter, settings.timeZone)}.`);
  }
  sentences.push(emergencySentence(settings));
  return sentences.join(' ');
}
