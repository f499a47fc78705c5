/**
 * The words of the messages Gatekeeper forwards to staff: a subject tag a person (or a mail rule) can
 * filter on, and a short triage summary at the top — outcome and reasons, the customer's flags, the word
 * count against any limit, the earlier reply a message repeats, when a reply is due — above the original
 * message, which travels attached and unchanged. Held messages of one response window go as one digest.
 * A scanned letter the gate could not read in full is labelled in the subject and has a notice above the
 * summary saying what a person must do and what the gate did not check.
 *
 * Pure functions of plain data (dates arrive formatted).
 */

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

/** The triage facts of one message, as the summary shows them. */
export interface TriageSummaryInput {
  channel: 'email' | 'letter';
  /** Formatted, e.g. "Tue 24 Nov 2026 10:15". */
  receivedAt: string;
  subject: string;
  outcome: string;
  reasons: string[];
  customerId?: string;
  customerName?: string;
  restrictionId?: string;
  /** How the sender was (not) identified: `resolved`, `unidentified`, `ambiguous`, `unavailable`. */
  identification: string;
  /** The named contact's name, when mail is routed to them. */
  namedContact?: string;
  agentFlags: string[];
  wordLimit?: { limit: number; words: number; exceeded: boolean };
  /** The words counted when there is no limit (or the count when it must be made by hand is unknown). */
  words?: number;
  manualCount: boolean;
  /** The word limit when the words must be counted by hand. */
  wordLimitPending?: number;
  repeatOf?: { reference: string; respondedOn: string; contactId: string };
  /** Formatted, e.g. "Friday 27 November 2026, 09:00". */
  respondBy?: string;
  /** Why the sender was not sent an acknowledgement, or that a letter goes by post. */
  acknowledgement: string;
  malformed: boolean;
  problems: string[];
  attachments: Array<{ filename?: string; contentType: string; size: number }>;
  /** For letters: how the text was read, and why it is missing or incomplete (problem codes; may be absent). */
  letter?: { method: string; pages: number; reference?: string; problems?: string[] };
  /** For letters: how far the text was read; a forward of one not read in full opens with a notice. */
  letterText?: LetterTextStatus;
}

/** What the subject tag depends on. */
export interface SubjectTagInput {
  outcome: string;
  channel: 'email' | 'letter';
  restricted: boolean;
  /** Plain words for a response-frequency measure, e.g. "weekly response". */
  responseFrequency?: string;
  namedContact: boolean;
  malformed: boolean;
  identification: string;
  /** For letters: how far the text was read; one not read in full is tagged right after `[EMERGENCY]`. */
  letterText?: LetterTextStatus;
}

/**
 * Plain words for an ISO-8601 `every` of a response-frequency measure.
 * @param every e.g. `P7D`, `P14D`, `P1M`
 */
export function responseFrequencyWords(every: string): string {
  const known: Record<string, string> = { P1D: 'daily response', P7D: 'weekly response', P1W: 'weekly response', P14D: 'fortnightly response', P2W: 'fortnightly response', P1M: 'monthly response', P28D: 'four-weekly response' };
  return known[every.toUpperCase()] ?? `response every ${every.replace(/^P/i, '').toLowerCase()}`;
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

/**
 * The subject tag of a letter not read in full, or `''` when it was read in full (and for email).
 * @param status how far the letter was read; `undefined` for email
 */
export function letterTextTag(status: LetterTextStatus | undefined): string {
  if (status === 'unreadable') return '[Letter could not be read automatically]';
  if (status === 'partial') return '[Letter only partly read automatically]';
  return '';
}

/**
 * The lines at the top of a letter's forward when the gate could not read all of it: what a person must do
 * (read the scan by hand, checking first for an emergency) and what the gate did not check; `undefined` when
 * the letter was read in full, and for email.
 * @param status how far the letter was read; `undefined` for email
 * @param problems why the text is missing or incomplete (problem codes); the most specific are named
 */
export function letterTextNoticeWords(status: LetterTextStatus | undefined, problems: readonly string[]): string | undefined {
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

/**
 * The tag in front of a forwarded subject, e.g. `[EMERGENCY]`, `[Restricted: weekly response]`.
 * Several apply in a fixed order so mail rules can match the start of the subject.
 */
export function subjectTag(input: SubjectTagInput): string {
  const tags: string[] = [];
  if (input.outcome === 'emergency') tags.push('[EMERGENCY]');
  // A letter the gate could not read in full comes next — after [EMERGENCY] alone, which mail rules match at
  // the start — so the person sees before opening it that it must be read by hand.
  const letterTag = letterTextTag(input.letterText);
  if (letterTag !== '') tags.push(letterTag);
  if (input.restricted) {
    if (input.responseFrequency) tags.push(`[Restricted: ${input.responseFrequency}]`);
    else if (input.namedContact) tags.push('[Restricted: named contact]');
    else tags.push('[Restricted]');
  }
  if (input.identification === 'ambiguous') tags.push('[Shared address]');
  if (input.identification === 'unidentified' && input.channel === 'letter') tags.push('[No customer reference]');
  if (input.malformed) tags.push('[Unreadable: check original]');
  if (input.channel === 'letter') tags.push('[Letter]');
  return tags.join(' ');
}

function kb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/**
 * The triage summary of one message: short lines a person can take in at a glance.
 * @param t the triage facts
 */
export function triageSummary(t: TriageSummaryInput): string {
  const lines: string[] = [];
  lines.push(`${t.channel === 'letter' ? 'Letter' : 'Email'} received ${t.receivedAt}: “${t.subject || '(no subject)'}”`);
  lines.push(`Outcome: ${t.outcome}${t.reasons.length > 0 ? ` (${t.reasons.join(', ')})` : ''}`);
  const who =
    t.identification === 'resolved'
      ? `${t.customerName ?? ''} ${t.customerId ? `(${t.customerId})` : ''}`.trim()
      : t.identification === 'ambiguous'
        ? 'shared address: several customers — confirm who wrote before applying any restriction'
        : t.identification === 'unavailable'
          ? 'not checked (restriction store unavailable) — check the record'
          : t.channel === 'letter'
            ? 'not identified: no customer reference found in the subject or the letter'
            : 'not identified: the sender’s address is not on any customer record';
  lines.push(`Customer: ${who}${t.restrictionId ? ` — restriction ${t.restrictionId}` : ''}`);
  if (t.namedContact) lines.push(`Named contact: ${t.namedContact}`);
  if (t.respondBy) lines.push(`Reply due: ${t.respondBy} (response-frequency)`);
  if (t.wordLimit) {
    const verdict = t.wordLimit.exceeded ? ` — OVER THE LIMIT: act on the first ${t.wordLimit.limit} words only` : ' — within the limit';
    lines.push(`Words: ${t.wordLimit.words} of ${t.wordLimit.limit}${verdict}${t.manualCount ? ' (at least; count by hand)' : ''}`);
  } else if (t.manualCount) {
    lines.push(`Words: COUNT BY HAND — the text could not be read in full automatically${t.wordLimitPending !== undefined ? ` (limit ${t.wordLimitPending})` : ''}`);
  } else if (t.words !== undefined) {
    lines.push(`Words: ${t.words}`);
  }
  if (t.repeatOf) lines.push(`Repeat of: a matter answered on ${t.repeatOf.respondedOn}, reference ${t.repeatOf.reference} (contact ${t.repeatOf.contactId})`);
  if (t.letter) lines.push(`Letter text: ${t.letter.method}, ${t.letter.pages} page(s)${t.letter.reference ? `, reference ${t.letter.reference}` : ''}`);
  if (t.malformed) lines.push(`UNREADABLE PARTS: ${t.problems.join(', ')} — please read the attached original`);
  if (t.agentFlags.length > 0) {
    lines.push('Flags:');
    for (const f of t.agentFlags) lines.push(`  • ${f}`);
  }
  if (t.attachments.length > 0) lines.push(`Attachments: ${t.attachments.map((a) => `${a.filename ?? a.contentType} (${kb(a.size)})`).join(', ')}`);
  lines.push(`Acknowledgement: ${t.acknowledgement}`);
  return lines.join('\n');
}

/**
 * The body of a single forward: for a letter not read in full, the notice of what a person must do (above
 * everything else: the letter must be read by hand); then the summary, and a pointer to the attached original.
 * @param t the triage facts
 */
export function forwardBody(t: TriageSummaryInput): string {
  const notice = letterTextNoticeWords(t.letterText, t.letter?.problems ?? []);
  return `${notice === undefined ? '' : `${notice}\n\n`}${triageSummary(t)}\n\n— The original ${t.channel === 'letter' ? 'email from the scanning bureau, with the letter,' : 'message'} is attached unchanged (original.eml). —\n`;
}

/**
 * The body of a digest: every held message of one response window, each with its summary.
 * @param window the response window, formatted
 * @param items the messages' triage facts, oldest first
 * @param part this digest's part number and the number of parts (large windows are split)
 */
export function digestBody(window: string, items: TriageSummaryInput[], part: { n: number; of: number }): string {
  const head = `Messages held for the response due ${window}: ${items.length}${part.of > 1 ? ` (part ${part.n} of ${part.of})` : ''}. Each original is attached unchanged, in the order below.`;
  const sections = items.map((t, i) => `── ${i + 1} of ${items.length} ──\n${triageSummary(t)}`);
  return `${head}\n\n${sections.join('\n\n')}\n`;
}
