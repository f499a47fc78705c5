/**
 * The triage record: what the `process-message` worker worked out about one message, kept next to the raw
 * message (never in a job) for the forward, digest and acknowledge workers. No message text is in it.
 */
import { DateTime } from 'luxon';
import { subjectTag, type TriageSummaryInput } from '../config/templates/forward';
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
    malformed: t.malformed,
    problems: t.problems,
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
  return input;
}

/**
 * How far the gate could read a letter, as the `X-Gatekeeper-Letter-Text` header says it:
 * - `extracted`: all of it, from the PDF's text layer;
 * - `ocr`: all of it, some or all by OCR;
 * - `partial`: some text, but not all of it or not reliably (page or time limit, OCR failed on a page or was
 *   unsure) — the checks saw only what was read;
 * - `unreadable`: no text at all (a corrupt PDF, a scan OCR found nothing in, no letter file attached) —
 *   emergency wording, the word limit and the repeat check were not applied to the letter.
 */
export type LetterTextStatus = 'extracted' | 'ocr' | 'partial' | 'unreadable';

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

/** Why a letter could not be read at all, by problem code, in words for the person who must read it… */
const UNREADABLE_BECAUSE: Record<string, string> = {
  'no-letter-attached': 'the scanning bureau’s email has no letter file (PDF or image) attached — ask the bureau for the scan',
  'letter-not-read': 'the letter file could not be kept for reading (too large?) — it is in the attached original',
  'pdf-unreadable': 'the PDF could not be opened (damaged or locked) — if it will not open for you either, ask the scanning bureau to scan the letter again',
  'unsupported-type': 'the attached file is not a PDF or an image that can be read automatically',
  'pdf-timeout': 'reading the PDF took longer than allowed and was stopped',
  'ocr-timeout': 'reading the scan (OCR) took longer than allowed and was stopped',
  'ocr-failed': 'reading the scan (OCR) failed',
  'page-limit': 'it has more pages than are read automatically',
  'no-text': 'the scan has no text layer and OCR found no words in it (blank, faint or handwritten?)',
};

/** …and why only part of it was, when some text was. */
const PARTIAL_BECAUSE: Record<string, string> = {
  'pdf-unreadable': 'part of it could not be opened',
  'unsupported-type': 'an attached file is not a PDF or an image that can be read automatically',
  'pdf-timeout': 'reading it took longer than allowed and was stopped part-way',
  'ocr-timeout': 'reading it took longer than allowed and was stopped part-way',
  'ocr-failed': 'OCR failed on part of it',
  'ocr-low-confidence': 'OCR was unsure of what it read',
  'page-limit': 'it has more pages than are read automatically',
  'no-text': 'an attached file has no words that could be read',
};

/** The distinct phrases for a letter's problems; a bare `no-text` only when nothing more specific explains it. */
function because(problems: readonly string[], words: Record<string, string>, fallback: string): string {
  const specific = problems.filter((p) => p !== 'no-text');
  const chosen = specific.length > 0 ? specific : problems;
  const phrases = [...new Set(chosen.map((p) => words[p] ?? fallback))];
  return phrases.length > 0 ? phrases.join('; ') : fallback;
}

/** The subject tag of {@link letterTextStatus}, or `''` when the letter was read in full. */
export function letterTextTag(status: LetterTextStatus | undefined): string {
  if (status === 'unreadable') return '[Letter could not be read automatically]';
  if (status === 'partial') return '[Letter only partly read automatically]';
  return '';
}

/**
 * The lines at the top of a letter's forward when the gate could not read all of it: what a person must do
 * (read the scan by hand, checking first for an emergency) and what the gate did not check; `undefined` when
 * the letter was read in full, and for email.
 */
export function letterTextNotice(t: TriageRecord): string | undefined {
  const status = letterTextStatus(t);
  const problems = t.letter?.problems ?? [];
  if (status === 'unreadable') {
    return [
      `LETTER COULD NOT BE READ AUTOMATICALLY: ${because(problems, UNREADABLE_BECAUSE, 'no text could be read from it')}.`,
      'A person must read the letter by hand, and check it FIRST for an emergency (gas, fire, flooding, no heating or water, someone at risk): ' +
        'emergency wording was NOT checked — only the bureau’s subject line was. The word limit and the repeat check were not applied, and ' +
        'the customer reference was looked for only in the bureau’s subject and covering note.',
    ].join('\n');
  }
  if (status === 'partial') {
    return [
      `LETTER ONLY PARTLY READ AUTOMATICALLY: ${because(problems, PARTIAL_BECAUSE, 'some of its text could not be read')}.`,
      'A person must read the whole scanned letter by hand, checking it first for an emergency: the emergency check, the word count and ' +
        'the repeat check saw only the text that could be read.',
    ].join('\n');
  }
  return undefined;
}

/** The tagged subject of a forward. */
export function taggedSubject(t: TriageRecord): string {
  const tags = subjectTag({
    outcome: t.decision.outcome,
    channel: t.channel,
    restricted: t.decision.restrictionId !== undefined,
    ...(t.responseFrequency ? { responseFrequency: t.responseFrequency } : {}),
    namedContact: t.decision.routeTo !== undefined,
    malformed: t.malformed,
    identification: t.identification,
  });
  // A letter the gate could not read leads the subject — after [EMERGENCY] alone, which mail rules match at
  // the start — so the person sees before opening it that it must be read by hand.
  const letterTag = letterTextTag(letterTextStatus(t));
  const tag =
    letterTag === '' ? tags : tags.startsWith('[EMERGENCY]') ? `[EMERGENCY] ${letterTag}${tags.slice('[EMERGENCY]'.length)}` : `${letterTag} ${tags}`.trim();
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
