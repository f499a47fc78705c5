/**
 * RFC 3834 ("Recommendations for Automatic Responses to Electronic Mail"): whether a message may be
 * acknowledged. We must never reply to a robot — another auto-responder, a mailing list, a bounce, or
 * ourselves — or two machines can mail each other forever. The message is still processed and
 * forwarded whatever this says; only our acknowledgement is withheld.
 */
import type { ReplyHeaders } from './parse';

/** Our loop header: set on everything we send; mail carrying it came (back) from us. */
export const LOOP_HEADER = 'X-Gatekeeper-Loop';

/**
 * The list header fields of RFC 2369 (List-Help, -Unsubscribe, -Subscribe, -Post, -Owner, -Archive) and
 * RFC 2919 (List-Id), names lower-cased. A list manager adds them to what it distributes, so any one of
 * them, whatever its value (even `NO` or empty), marks mail that came through a list.
 */
export const LIST_HEADER_NAMES = ['list-id', 'list-help', 'list-unsubscribe', 'list-subscribe', 'list-post', 'list-owner', 'list-archive'] as const;

/** Why no acknowledgement is sent. */
export type AckSkipReason =
  | 'auto-submitted'
  | 'precedence'
  | 'mailing-list'
  | 'delivery-report'
  | 'null-return-path'
  | 'system-sender'
  | 'own-mail'
  | 'our-loop'
  | 'auto-reply-header'
  | 'auto-response-suppressed'
  | 'no-sender';

/** The answer of {@link shouldAcknowledge}. */
export type AckVerdict = { acknowledge: true } | { acknowledge: false; reason: AckSkipReason };

/** Local parts of system senders (RFC 3834 §2, and common practice). */
const SYSTEM_LOCAL_PARTS = /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|listserv|majordomo)([+-].*)?$/i;

/** Subject prefixes of out-of-office replies from programs that set no header (a fallback, not a rule). */
const AUTO_REPLY_SUBJECT = /^\s*(automatic reply|auto(matic)?[- ]?reply|auto-response|out of (the )?office|autoreply)\s*:/i;

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Whether we may acknowledge a message (RFC 3834 §2).
 * @param headers the message's reply-relevant headers, names lower-cased; `return-path` should be the SMTP envelope sender when known (`''` = null)
 * @param from the From address (lower-cased), if any
 * @param ourDomains our own domains (`SMTP_DOMAINS`): mail from them is our own
 * @param subject the subject, for the out-of-office fallback
 */
export function shouldAcknowledge(headers: ReplyHeaders, from: string | undefined, ourDomains: readonly string[], subject = ''): AckVerdict {
  const h = (name: string): string | undefined => {
    const v = headers[name];
    return v === undefined ? undefined : v.trim();
  };
  if (h('x-gatekeeper-loop') !== undefined) return { acknowledge: false, reason: 'our-loop' };
  const autoSubmitted = h('auto-submitted');
  if (autoSubmitted !== undefined && autoSubmitted.toLowerCase().split(/[\s;(]/)[0] !== 'no') {
    return { acknowledge: false, reason: 'auto-submitted' };
  }
  const precedence = h('precedence')?.toLowerCase();
  if (precedence !== undefined && ['bulk', 'list', 'junk', 'auto_reply'].includes(precedence)) return { acknowledge: false, reason: 'precedence' };
  if (LIST_HEADER_NAMES.some((name) => h(name) !== undefined)) return { acknowledge: false, reason: 'mailing-list' };
  if (h('content-type')?.toLowerCase().startsWith('multipart/report')) return { acknowledge: false, reason: 'delivery-report' };
  const returnPath = h('return-path');
  if (returnPath !== undefined && returnPath.replace(/[<>\s]/g, '') === '') return { acknowledge: false, reason: 'null-return-path' };
  if (from === undefined) return { acknowledge: false, reason: 'no-sender' };
  if (SYSTEM_LOCAL_PARTS.test(from.slice(0, from.lastIndexOf('@')))) return { acknowledge: false, reason: 'system-sender' };
  const returnAddress = returnPath?.replace(/[<>\s]/g, '');
  if (returnAddress !== undefined && SYSTEM_LOCAL_PARTS.test(returnAddress.slice(0, returnAddress.lastIndexOf('@')))) {
    return { acknowledge: false, reason: 'system-sender' };
  }
  const ours = new Set(ourDomains.map((d) => d.toLowerCase()));
  if (ours.has(domainOf(from))) return { acknowledge: false, reason: 'own-mail' };
  if (h('x-autoreply') !== undefined || h('x-autorespond') !== undefined || h('x-auto-reply') !== undefined || AUTO_REPLY_SUBJECT.test(subject)) {
    return { acknowledge: false, reason: 'auto-reply-header' };
  }
  // Exchange's X-Auto-Response-Suppress: `All` or `AutoReply` asks responders like us to stay quiet
  // (`OOF` concerns out-of-office notices, `DR`/`NDR`/`RN`/`NRN` receipts — none of which we send).
  const suppress = h('x-auto-response-suppress')?.toLowerCase().split(/[\s,]+/) ?? [];
  if (suppress.includes('all') || suppress.includes('autoreply')) return { acknowledge: false, reason: 'auto-response-suppressed' };
  return { acknowledge: true };
}
