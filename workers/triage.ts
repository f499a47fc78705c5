/**
 * The triage record: what the `process-message` worker worked out about one message, kept next to the raw
 * message (never in a job) for the forward, digest and acknowledge workers. No message text is in it.
 */
import { DateTime } from 'luxon';
import { subjectTag, type LetterTextStatus, type TriageSummaryInput } from '../config/templates/forward';
import type { Decision } from '../rules/types';

/** Where a message goes. */
export type RoutingMode = 'emergency' | 'named-contact' | 'default' | 'digest' | 'none';

/** What the process-message worker decided about one message. */
export interface TriageRecord {
  channel: 'email' | 'letter';
  receivedAt: string;
  /** The sender's address (lower-cased), for the acknowledgement; never logged. */
  from?: string;
  replyTo?: string;
  subject: string;
  messageId?: string;
  references: string[];
  identification: 'resolved' | 'unidentified' | 'ambiguous' | 'unavailable';
  customerName?: string;
  decision: Decision;
  /** The words counted, when they could be. */
  words?: number;
  /** The text could not be read in full: a person must count the words. */
  manualCount: boolean;
  /** The word limit when the words must be counted by hand (the decision then has no `wordLimit`). */
  wordLimitPending?: number;
  malformed: boolean;
  problems: string[];
  attachments: Array<{ filename?: string; contentType: string; size: number }>;
  /**
   * For letters: how the text was read (`pdf-text`, `ocr`, `none`), pages read, the customer reference found,
   * and why the text is missing or incomplete (extract.ts problem codes, `no-letter-attached`,
   * `letter-not-read`). `problems` is absent on records written before it was added.
   */
  letter?: { method: string; pages: number; reference?: string; problems?: string[] };
  /** Plain words of the customer's response-frequency measure, e.g. "weekly response". */
  responseFrequency?: string;
  routing: { mode: RoutingMode; to: string[]; namedContactName?: string; windowMs?: number };
  /** Whether an acknowledgement goes, and if not, why (RFC 3834 reason, `covered`, `no-address`, …). */
  ack: { send: boolean; reason?: string; gateId?: string; periodEndsAt?: string };
}

/** Reads a stored triage record. */
export function parseTriage(json: string | undefined): TriageRecord | undefined {
  if (json === undefined) return undefined;
  return JSON.parse(json) as TriageRecord;
}

/** "Friday 27 November 2026" in the zone. */
export function formatDay(iso: string, zone: string): string {
  return DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toFormat('cccc d LLLL yyyy');
}

/** "Friday 27 November 2026 at 09:00" in the zone. */
export function formatDayTime(iso: string, zone: string): string {
  return DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toFormat("cccc d LLLL yyyy 'at' HH:mm");
}

/** "Tue 24 Nov 2026 10:15" in the zone. */
export function formatShort(iso: string, zone: string): string {
  return DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toFormat('ccc d LLL yyyy HH:mm');
}

/** Our Message-ID for something we send about a message, e.g. `<fwd.mid-…@landlord.example>`. */
export function ourMessageId(kind: string, key: string, domain: string): string {
  return `<${kind}.${key.replace(/[^\w.-]/g, '=')}@${domain}>`;
}

function ackLine(t: TriageRecord): string {
  if (t.ack.send) return t.channel === 'letter' ? 'a letter goes to the print room to be posted' : 'sent to the customer';
  const why: Record<string, string> = {
    covered: 'not sent — the customer was acknowledged earlier in this period',
    'no-customer': 'none — no customer could be identified to write to',
    'auto-submitted': 'none — automatic mail (Auto-Submitted)',
    precedence: 'none — bulk or list mail',
    'mailing-list': 'none — mailing-list mail',
    'delivery-report': 'none — a delivery report (bounce)',
    'null-return-path': 'none — a bounce (null return path)',
    'system-sender': 'none — sent by a mail system',
    'own-mail': 'none — our own mail',
    'our-loop': 'none — mail that came back from us',
    'auto-reply-header': 'none — an automatic reply (e.g. out of office)',
    'auto-response-suppressed': 'none — the sender asked for no automatic replies',
    'no-sender': 'none — no sender address',
  };
  return why[t.ack.reason ?? ''] ?? `none (${t.ack.reason ?? 'unknown'})`;
}

/**
 * What of a message could not be read, as the forward's `[Unreadable: check original]` tag and its
 * "UNREADABLE PARTS" line report it: MIME the parser could not read. A bureau email with no letter file is
 * recorded as malformed too (`no-letter-attached`, by the process-message worker), but the letter's own label
 * (`[Letter could not be read automatically]` and its notice) already says so, and asks for the scan; so that
 * problem alone does not mark the forward unreadable as well. What is left is what marked it before: any
 * problem but an attachment too large to keep (channels/email/parse.ts).
 */
function unreadableParts(t: TriageRecord): { malformed: boolean; problems: string[] } {
  if (t.channel !== 'letter' || !t.problems.includes('no-letter-attached')) return { malformed: t.malformed, problems: t.problems };
  const problems = t.problems.filter((p) => p !== 'no-letter-attached');
  return { malformed: t.malformed && problems.some((p) => p !== 'attachment-too-large'), problems };
}

/** The summary facts of a record, for config/templates/forward.ts. */
export function summaryInput(t: TriageRecord, zone: string): TriageSummaryInput {
  const d = t.decision;
  const input: TriageSummaryInput = {
    channel: t.channel,
    receivedAt: formatShort(t.receivedAt, zone),
    subject: t.subject,
    outcome: d.outcome,
    reasons: d.reasons,
    identification: t.identification,
    agentFlags: d.agentFlags,
    manualCount: t.manualCount,
    acknowledgement: ackLine(t),
    ...unreadableParts(t),
    attachments: t.attachments,
  };
  if (d.customerId !== undefined) input.customerId = d.customerId;
  if (t.customerName !== undefined) input.customerName = t.customerName;
  if (d.restrictionId !== undefined) input.restrictionId = d.restrictionId;
  if (t.routing.namedContactName !== undefined) input.namedContact = t.routing.namedContactName;
  if (d.wordLimit) input.wordLimit = d.wordLimit;
  if (t.words !== undefined) input.words = t.words;
  if (t.wordLimitPending !== undefined) input.wordLimitPending = t.wordLimitPending;
  if (d.repeatOf) input.repeatOf = { reference: d.repeatOf.reference, respondedOn: formatDay(d.repeatOf.respondedAt, zone), contactId: d.repeatOf.contactId };
  if (d.respondAfter) input.respondBy = formatDayTime(d.respondAfter, zone);
  if (t.letter) input.letter = t.letter;
  const letterText = letterTextStatus(t);
  if (letterText) input.letterText = letterText;
  return input;
}

/** The header that says how far a letter was read; on letter forwards only, never on email. */
export const LETTER_TEXT_HEADER = 'X-Gatekeeper-Letter-Text';

/** How far the gate could read a letter; `undefined` for email. Derived, so records already stored have one too. */
export function letterTextStatus(t: Pick<TriageRecord, 'channel' | 'letter' | 'manualCount'>): LetterTextStatus | undefined {
  if (t.channel !== 'letter') return undefined;
  if (t.letter === undefined || t.letter.method === 'none') return 'unreadable';
  // A letter read only in part or unsurely needs a manual count (extract.ts): the same facts, kept once.
  if (t.manualCount) return 'partial';
  return t.letter.method === 'ocr' ? 'ocr' : 'extracted';
}

/** The header of {@link letterTextStatus} for a forward: one field for a letter, none for email. */
export function letterTextHeaders(t: TriageRecord): Record<string, string> {
  const status = letterTextStatus(t);
  return status === undefined ? {} : { [LETTER_TEXT_HEADER]: status };
}

/** The tagged subject of a forward. */
export function taggedSubject(t: TriageRecord): string {
  const letterText = letterTextStatus(t);
  const tag = subjectTag({
    outcome: t.decision.outcome,
    channel: t.channel,
    restricted: t.decision.restrictionId !== undefined,
    ...(t.responseFrequency ? { responseFrequency: t.responseFrequency } : {}),
    namedContact: t.decision.routeTo !== undefined,
    malformed: unreadableParts(t).malformed,
    identification: t.identification,
    ...(letterText ? { letterText } : {}),
  });
  const subject = t.subject.trim() === '' ? '(no subject)' : t.subject.replace(/[\r\n]+/g, ' ');
  return tag === '' ? subject : `${tag} ${subject}`;
}

/** The X-Gatekeeper-* headers of a forward. */
export function gatekeeperHeaders(t: TriageRecord, loopValue: string): Record<string, string> {
  return {
    'X-Gatekeeper-Outcome': t.decision.outcome,
    // Always present: empty (not left out) when nothing shaped the decision — e.g. an accepted email from a
    // restricted customer who is written-only — as the transports keep empty fields (compose.ts).
    'X-Gatekeeper-Reasons': t.decision.reasons.join(','),
    'X-Gatekeeper-Customer': t.decision.customerId ?? (t.identification === 'ambiguous' ? 'ambiguous' : 'unidentified'),
    'X-Gatekeeper-Loop': loopValue,
    // Staff mail programs must not auto-reply to a forward (it would come back to our MX).
    'Auto-Submitted': 'auto-generated',
  };
}
