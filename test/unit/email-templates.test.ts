/** The words we send: acknowledgements always say how to report an emergency; forwards are tagged and summarised. */
import fc from 'fast-check';
import { detectEmergency } from '../../rules/emergency';
import { EMERGENCY_PHRASES } from '../../config/emergency-phrases';
import { emailAcknowledgement, type EmailAcknowledgementInput } from '../../config/templates/email-acknowledgement';
import { forwardBody, responseFrequencyWords, subjectTag, triageSummary, type TriageSummaryInput } from '../../config/templates/forward';

const base: EmailAcknowledgementInput = {
  receivedOn: 'Tuesday 24 November 2026',
  messageCount: 1,
  emergency: false,
  emergencyNumber: '0800 000 0000',
  teamName: 'Customer Services',
};

describe('emailAcknowledgement', () => {
  it('always says how to report an emergency, whatever else it says', () => {
    const input = fc.record({
      customerName: fc.option(fc.constantFrom('Pat Tenant', 'Sam'), { nil: undefined }),
      messageCount: fc.integer({ min: 1, max: 20 }),
      respondBy: fc.option(fc.constant('Friday 27 November 2026'), { nil: undefined }),
      wordLimit: fc.option(fc.record({ limit: fc.integer({ min: 1, max: 1000 }), words: fc.integer({ min: 0, max: 2000 }), exceeded: fc.boolean() }), { nil: undefined }),
      repeatOf: fc.option(fc.constant({ reference: 'REF-1', respondedOn: 'Monday 5 October 2026' }), { nil: undefined }),
      emergency: fc.boolean(),
    });
    fc.assert(
      fc.property(input, (i) => {
        const { text, subject } = emailAcknowledgement({ ...base, ...Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined)) } as EmailAcknowledgementInput);
        expect(text).toContain('If you need to report an emergency, call us on 0800 000 0000 at any time');
        // A reply that quotes only our subject must not read as an emergency.
        expect(detectEmergency(subject, EMERGENCY_PHRASES).emergency).toBe(false);
      }),
    );
  });

  it('says when we will reply, the word limit and the earlier answer, as the arrangement requires', () => {
    const { text } = emailAcknowledgement({
      ...base,
      customerName: 'Pat Tenant',
      respondBy: 'Friday 27 November 2026',
      wordLimit: { limit: 500, words: 812, exceeded: true },
      repeatOf: { reference: 'REF-9', respondedOn: 'Monday 2 November 2026' },
      coversUntil: 'Wednesday 25 November 2026 at 10:15',
    });
    expect(text).toMatch(/^Dear Pat Tenant,/);
    expect(text).toContain('We will reply by Friday 27 November 2026.');
    expect(text).toContain('Your message is 812 words long');
    expect(text).toContain('We will act on the first 500 words only.');
    expect(text).toContain('on Monday 2 November 2026 (our reference REF-9)');
    expect(text).toContain('covers any further messages you send us before Wednesday 25 November 2026 at 10:15');
  });
});

describe('forward subject tags and summaries', () => {
  const tag = (over: Partial<Parameters<typeof subjectTag>[0]>) =>
    subjectTag({ outcome: 'proceed', channel: 'email', restricted: false, namedContact: false, malformed: false, identification: 'resolved', ...over });

  it('tags what a person filters on, emergencies first', () => {
    expect(tag({})).toBe('');
    expect(tag({ restricted: true, responseFrequency: responseFrequencyWords('P7D') })).toBe('[Restricted: weekly response]');
    expect(tag({ restricted: true, namedContact: true })).toBe('[Restricted: named contact]');
    expect(tag({ outcome: 'emergency', restricted: true, channel: 'letter' })).toBe('[EMERGENCY] [Restricted] [Letter]');
    expect(tag({ identification: 'unidentified', channel: 'letter', malformed: true })).toBe('[No customer reference] [Unreadable: check original] [Letter]');
    expect(responseFrequencyWords('P14D')).toBe('fortnightly response');
    // A letter not read in full is tagged next after [EMERGENCY] alone; one read in full is not tagged.
    expect(tag({ channel: 'letter', letterText: 'partial', restricted: true })).toBe('[Letter only partly read automatically] [Restricted] [Letter]');
    expect(tag({ outcome: 'emergency', channel: 'letter', letterText: 'unreadable' })).toBe('[EMERGENCY] [Letter could not be read automatically] [Letter]');
    expect(tag({ channel: 'letter', letterText: 'extracted' })).toBe('[Letter]');
    expect(tag({ channel: 'letter', letterText: 'ocr' })).toBe('[Letter]');
    expect(responseFrequencyWords('P3D')).toBe('response every 3d');
  });

  it('summarises flags, the count against the limit and the repeat at the top', () => {
    const t: TriageSummaryInput = {
      channel: 'email',
      receivedAt: 'Tue 24 Nov 2026 10:15',
      subject: 'Fence',
      outcome: 'proceed',
      reasons: ['named-contact', 'word-limit-exceeded', 'repeat-issue'],
      identification: 'resolved',
      customerId: 'C1',
      customerName: 'Pat',
      restrictionId: 'R1',
      agentFlags: ['Named contact: Jo Smith'],
      wordLimit: { limit: 500, words: 812, exceeded: true },
      manualCount: false,
      repeatOf: { reference: 'REF-1', respondedOn: 'Monday 5 October 2026', contactId: 'c-9' },
      acknowledgement: 'sent to the customer',
      malformed: false,
      problems: [],
      attachments: [{ filename: 'photo.jpg', contentType: 'image/jpeg', size: 2_500_000 }],
    };
    const s = triageSummary(t);
    expect(s.split('\n').slice(0, 3)).toEqual(['Email received Tue 24 Nov 2026 10:15: “Fence”', 'Outcome: proceed (named-contact, word-limit-exceeded, repeat-issue)', 'Customer: Pat (C1) — restriction R1']);
    expect(s).toContain('Words: 812 of 500 — OVER THE LIMIT: act on the first 500 words only');
    expect(s).toContain('Repeat of: a matter answered on Monday 5 October 2026, reference REF-1 (contact c-9)');
    expect(s).toContain('  • Named contact: Jo Smith');
    expect(s).toContain('Attachments: photo.jpg (2.4 MB)');
    expect(triageSummary({ ...t, wordLimit: undefined, manualCount: true, wordLimitPending: 500 })).toContain('Words: COUNT BY HAND — the text could not be read in full automatically (limit 500)');
  });

  it('opens the forward of a letter not read in full with the notice, naming why, above the summary', () => {
    const letter: TriageSummaryInput = {
      channel: 'letter',
      receivedAt: 'Tue 24 Nov 2026 10:15',
      subject: 'Scanned post #1',
      outcome: 'proceed',
      reasons: ['unidentified'],
      identification: 'unidentified',
      agentFlags: [],
      manualCount: true,
      acknowledgement: 'none — no customer could be identified to write to',
      malformed: false,
      problems: [],
      attachments: [],
      letter: { method: 'ocr', pages: 2, problems: ['page-limit'] },
      letterText: 'partial',
    };
    const partial = forwardBody(letter);
    expect(partial).toMatch(/^LETTER ONLY PARTLY READ AUTOMATICALLY: it has more pages than are read automatically\.\nA person must read the whole scanned letter by hand[^\n]*\n\nLetter received Tue 24 Nov 2026 10:15/);
    const unreadable = forwardBody({ ...letter, letter: { method: 'none', pages: 0, problems: ['no-letter-attached'] }, letterText: 'unreadable' });
    expect(unreadable).toMatch(/^LETTER COULD NOT BE READ AUTOMATICALLY: the scanning bureau’s email has no letter file \(PDF or image\) attached — ask the bureau for the scan\.\n/);
    expect(unreadable).toContain('emergency wording was NOT checked');
    // Read in full, or email: the summary comes first, as it always has.
    expect(forwardBody({ ...letter, manualCount: false, letter: { method: 'pdf-text', pages: 1, problems: [] }, letterText: 'extracted' })).toMatch(/^Letter received /);
    const { letter: _letter, letterText: _status, ...email } = letter;
    expect(forwardBody({ ...email, channel: 'email', manualCount: false })).toMatch(/^Email received /);
  });
});
