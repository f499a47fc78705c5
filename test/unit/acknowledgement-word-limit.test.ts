/**
 * What the acknowledgement of a letter says about the word limit (workers/acknowledge-worker.ts), from the
 * triage record: the count only when it is the whole letter's, an "over the limit" verdict without a count
 * when only part of the letter was read, and only the limit when none of it was — then rendered by the real
 * template (config/letter-templates.ts), as the customer reads it.
 */
import { letterAcknowledgement } from '../../config/letter-templates';
import { acknowledgementWordLimit } from '../../workers/acknowledge-worker';
import type { TriageRecord } from '../../workers/triage';

function letter(overrides: Partial<TriageRecord> = {}): TriageRecord {
  return {
    channel: 'letter',
    receivedAt: '2026-11-24T10:15:00Z',
    subject: 'Scanned post #1 C1',
    references: [],
    identification: 'resolved',
    decision: { outcome: 'proceed', customerId: 'C1', restrictionId: 'R1', reasons: ['word-limit-exceeded'], agentFlags: [], wordLimit: { limit: 100, words: 240, exceeded: true } },
    manualCount: false,
    malformed: false,
    problems: [],
    attachments: [],
    routing: { mode: 'default', to: ['housing-team@landlord.example'] },
    ack: { send: true, gateId: 'C1' },
    letter: { method: 'pdf-text', pages: 2, problems: [] },
    ...overrides,
  };
}

/** The acknowledgement's words, as one line. */
function ackText(t: TriageRecord): string {
  const limit = acknowledgementWordLimit(t);
  const content = letterAcknowledgement({ receivedOn: 'Tuesday 24 November 2026', emergencyNumber: '0300 500 8080', ...(limit ? { wordLimit: limit } : {}) });
  return content.paragraphs.join(' ').replace(/\s+/g, ' ');
}

describe('the word limit in a letter’s acknowledgement', () => {
  it('gives the count of a letter read in full', () => {
    expect(acknowledgementWordLimit(letter())).toEqual({ limit: 100, words: 240, exceeded: true });
    expect(ackText(letter())).toContain('Your letter is 240 words long.');
  });

  it('says a letter read only in part is more than the limit, never the count of the part read', () => {
    const partial = letter({ manualCount: true, letter: { method: 'pdf-text', pages: 1, problems: ['pdf-unreadable'] } });
    expect(acknowledgementWordLimit(partial)).toEqual({ limit: 100, words: 240, exceeded: true, partlyRead: true });
    const text = ackText(partial);
    expect(text).toContain('Your letter is more than 100 words long.');
    expect(text).not.toContain('240');
  });

  it('states no count and no verdict for a letter that could not be read at all, only the limit', () => {
    // A record with a count for an unread letter cannot come from the rules today (no text, no count); the
    // acknowledgement must still not repeat one.
    const unread = letter({ manualCount: true, letter: { method: 'none', pages: 0, problems: ['pdf-unreadable', 'no-text'] } });
    expect(acknowledgementWordLimit(unread)).toEqual({ limit: 100, exceeded: false });
    const pending = letter({ manualCount: true, wordLimitPending: 100, decision: { outcome: 'proceed', customerId: 'C1', reasons: [], agentFlags: [] }, letter: { method: 'none', pages: 0 } });
    expect(acknowledgementWordLimit(pending)).toEqual({ limit: 100, exceeded: false });
    for (const t of [unread, pending]) {
      const text = ackText(t);
      expect(text).toContain('Please remember that we will act on the first 100 words of each letter only.');
      expect(text).not.toMatch(/words long|more than/);
    }
  });

  it('leaves email as it was: the count is of the whole message', () => {
    const email = letter({ channel: 'email', letter: undefined, manualCount: false });
    expect(acknowledgementWordLimit(email)).toEqual({ limit: 100, words: 240, exceeded: true });
    expect(acknowledgementWordLimit(letter({ channel: 'email', letter: undefined, decision: { outcome: 'proceed', reasons: [], agentFlags: [] } }))).toBeUndefined();
  });
});
