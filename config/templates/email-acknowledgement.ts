/**
 * The words of the acknowledgement we email to a customer who has written to us. Plain, respectful English
 * (the policy's "fair, open and respectful"): short sentences, "we" and "you", what happens next and when,
 * never blame. What the customer's arrangement requires is said plainly — when we will reply, the word limit
 * and that only the first N words will be acted on, or that the matter was answered before under a
 * reference — and EVERY acknowledgement says how to report an emergency.
 *
 * Pure functions of plain data (dates arrive formatted); rendered as a plain-text email by the acknowledge
 * worker. The subject deliberately avoids words that read as an emergency, so a reply that quotes it is not
 * mistaken for one.
 */
import { emergencyParagraph } from '../letter-templates';

/** What an acknowledgement must say. */
export interface EmailAcknowledgementInput {
  /** The customer's name, when we know who they are. */
  customerName?: string;
  /** When the (first) message reached us, formatted, e.g. "Tuesday 24 November 2026". */
  receivedOn: string;
  /** The subject the customer wrote, for reference. */
  subject?: string;
  /** How many messages this acknowledgement covers (at most one per period is sent). */
  messageCount: number;
  /** Until when further messages will not be acknowledged separately, formatted; absent for an emergency. */
  coversUntil?: string;
  /** When we will reply, formatted (a response-frequency measure sets it). */
  respondBy?: string;
  /** How often we reply under a response-frequency measure, e.g. "once a week". */
  responseSchedule?: string;
  /** The word limit: `words` is the count, absent when it must be counted by hand. */
  wordLimit?: { limit: number; words?: number; exceeded: boolean };
  /** The earlier reply this message repeats (new-issues-only). */
  repeatOf?: { reference: string; respondedOn: string };
  /** The member of staff who deals with the customer's messages. */
  namedContact?: string;
  /** The message was treated as an emergency and passed on at once. */
  emergency: boolean;
  emergencyNumber: string;
  /** Our team's name for the sign-off, e.g. "Customer Relations". */
  teamName: string;
}

/** An email's subject and plain-text body. */
export interface EmailContent {
  subject: string;
  text: string;
}

/**
 * The acknowledgement of one or more emails from a customer.
 * @param input what the customer's arrangement requires us to say
 */
export function emailAcknowledgement(input: EmailAcknowledgementInput): EmailContent {
  const p: string[] = [];
  p.push(input.customerName ? `Dear ${input.customerName},` : 'Hello,');
  const what = input.messageCount > 1 ? `your ${input.messageCount} messages` : 'your message';
  const about = input.subject && input.messageCount === 1 ? ` about “${input.subject}”` : '';
  p.push(
    `Thank you for ${what}${about}, which we received on ${input.receivedOn}.` +
      (input.namedContact ? ` We have passed it to ${input.namedContact}, who deals with your messages.` : ''),
  );
  if (input.emergency) {
    p.push('Your message mentions something that may be an emergency, so we have passed it to our emergency team straight away. If the problem is happening now, please also call us on the number below.');
  }
  if (input.respondBy && input.responseSchedule) {
    p.push(`As we explained when we wrote to you about how we will manage your contact with us, we reply to messages ${input.responseSchedule}. We will reply by ${input.respondBy}.`);
  } else if (input.respondBy) {
    p.push(`We will reply by ${input.respondBy}.`);
  } else if (!input.emergency) {
    p.push('We will reply to you as soon as we can.');
  }
  const limit = input.wordLimit;
  if (limit) {
    if (limit.exceeded && limit.words !== undefined) {
      p.push(
        `Your message is ${limit.words} words long. As we explained when we wrote to you about contacting us, we can deal with messages of up to ${limit.limit} words. ` +
          `We will act on the first ${limit.limit} words only. If something important was in the rest of your message, please write to us again, keeping to ${limit.limit} words.`,
      );
    } else {
      p.push(`Please remember that we will act on the first ${limit.limit} words of each message only.`);
    }
  }
  if (input.repeatOf) {
    p.push(
      `We have already replied about the matters in your message, on ${input.repeatOf.respondedOn} (our reference ${input.repeatOf.reference}). Please refer to that reply. We will not reply again about the same matters, but we will reply to anything new that you raise.`,
    );
  }
  if (input.coversUntil) {
    p.push(`This acknowledgement covers any further messages you send us before ${input.coversUntil}: we will read them all, but we will not acknowledge each one separately.`);
  }
  p.push(emergencyParagraph(input.emergencyNumber));
  p.push(`Yours sincerely,\n${input.teamName}`);
  p.push('This is an automatic acknowledgement. You do not need to reply to it.');
  return { subject: input.emergency ? 'We have passed your message on straight away' : 'We have received your message', text: p.join('\n\n') };
}
