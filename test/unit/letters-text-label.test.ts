/**
 * How a forward says how far a scanned letter was read (workers/triage.ts): the `X-Gatekeeper-Letter-Text`
 * value, the subject tag and its place, and the notice at the top — from the triage record alone, including
 * records stored before the letter's problems were kept.
 */
import { letterTextNoticeWords } from '../../config/templates/forward';
import { letterTextHeaders, letterTextStatus, summaryInput, taggedSubject, type TriageRecord } from '../../workers/triage';

/** The notice a record's forward opens with, as `forwardBody` builds it from the record's summary facts. */
const letterTextNotice = (t: TriageRecord): string | undefined => letterTextNoticeWords(letterTextStatus(t), t.letter?.problems ?? []);

function record(overrides: Partial<TriageRecord> = {}): TriageRecord {
  return {
    channel: 'letter',
    receivedAt: '2026-11-24T10:15:00Z',
    subject: 'Scanned post #1',
    references: [],
    identification: 'unidentified',
    decision: { outcome: 'proceed', reasons: ['unidentified'], agentFlags: [] },
    manualCount: false,
    malformed: false,
    problems: [],
    attachments: [],
    routing: { mode: 'default', to: ['housing-team@landlord.example'] },
    ack: { send: false, reason: 'no-customer' },
    letter: { method: 'pdf-text', pages: 1, problems: [] },
    ...overrides,
  };
}

describe('letterTextStatus', () => {
  it('tells a letter read in full by its text layer or by OCR, in part, or not at all; email has none', () => {
    expect(letterTextStatus(record())).toBe('extracted');
    expect(letterTextStatus(record({ letter: { method: 'ocr', pages: 1 } }))).toBe('ocr');
    expect(letterTextStatus(record({ manualCount: true, letter: { method: 'ocr', pages: 1, problems: ['ocr-low-confidence'] } }))).toBe('partial');
    expect(letterTextStatus(record({ manualCount: true, letter: { method: 'none', pages: 0, problems: ['pdf-unreadable', 'no-text'] } }))).toBe('unreadable');
    expect(letterTextStatus(record({ channel: 'email', letter: undefined }))).toBeUndefined();
    expect(letterTextHeaders(record({ channel: 'email', letter: undefined }))).toEqual({});
    expect(letterTextHeaders(record({ manualCount: true, letter: { method: 'none', pages: 0 } }))).toEqual({ 'X-Gatekeeper-Letter-Text': 'unreadable' });
  });
});

describe('the label of a letter that could not be read', () => {
  const unreadable = (problems?: string[]): TriageRecord => record({ manualCount: true, letter: { method: 'none', pages: 0, ...(problems ? { problems } : {}) } });

  it('leads the subject, after [EMERGENCY] alone', () => {
    expect(taggedSubject(unreadable(['no-text']))).toBe('[Letter could not be read automatically] [No customer reference] [Letter] Scanned post #1');
    const emergency = unreadable(['no-text']);
    emergency.decision = { outcome: 'emergency', reasons: ['emergency', 'unidentified'], agentFlags: [] };
    expect(taggedSubject(emergency)).toBe('[EMERGENCY] [Letter could not be read automatically] [No customer reference] [Letter] Scanned post #1');
    expect(taggedSubject(record())).toBe('[No customer reference] [Letter] Scanned post #1');
  });

  it('names the most specific cause, and still warns on a record stored without its problems', () => {
    expect(letterTextNotice(unreadable(['ocr-timeout', 'no-text']))).toMatch(/^LETTER COULD NOT BE READ AUTOMATICALLY: reading the scan \(OCR\) took longer than allowed and was stopped\.\n/);
    expect(letterTextNotice(unreadable())).toMatch(/^LETTER COULD NOT BE READ AUTOMATICALLY: no text could be read from it\.\n.*emergency wording was NOT checked/);
    expect(letterTextNotice(record())).toBeUndefined();
    expect(letterTextNotice(record({ channel: 'email', letter: undefined }))).toBeUndefined();
  });
});

describe('a bureau email with no letter file: one label, not two', () => {
  // As the process-message worker records it: `no-letter-attached` marks the record malformed.
  const noLetter = (problems: string[], malformed = true): TriageRecord =>
    record({ manualCount: true, malformed, problems, letter: { method: 'none', pages: 0, problems: ['no-letter-attached'] } });

  it('is tagged as a letter that could not be read, not also as unreadable MIME, and the summary does not repeat it', () => {
    const t = noLetter(['no-letter-attached']);
    expect(taggedSubject(t)).toBe('[Letter could not be read automatically] [No customer reference] [Letter] Scanned post #1');
    expect(summaryInput(t, 'Europe/London')).toMatchObject({ malformed: false, problems: [] });
    expect(letterTextNotice(t)).toMatch(/^LETTER COULD NOT BE READ AUTOMATICALLY: the scanning bureau’s email has no letter file/);
  });

  it('keeps [Unreadable: check original] when the bureau’s email itself could not be read', () => {
    const t = noLetter(['unterminated-multipart', 'no-letter-attached']);
    expect(taggedSubject(t)).toBe('[Letter could not be read automatically] [No customer reference] [Unreadable: check original] [Letter] Scanned post #1');
    expect(summaryInput(t, 'Europe/London')).toMatchObject({ malformed: true, problems: ['unterminated-multipart'] });
    // An attachment too large to keep never made a message unreadable (channels/email/parse.ts), here neither.
    expect(taggedSubject(noLetter(['attachment-too-large', 'no-letter-attached']))).not.toContain('[Unreadable: check original]');
  });

  it('leaves ordinary email as it was: malformed MIME is tagged and listed', () => {
    const email = record({ channel: 'email', letter: undefined, identification: 'resolved', malformed: true, problems: ['unterminated-multipart'], subject: 'Photos' });
    expect(taggedSubject(email)).toBe('[Unreadable: check original] Photos');
    expect(summaryInput(email, 'Europe/London')).toMatchObject({ malformed: true, problems: ['unterminated-multipart'] });
  });
});
