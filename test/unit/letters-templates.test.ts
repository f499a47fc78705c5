import { renderLetterText } from '../../channels/letters/letter-pdf';
import {
  BEHAVIOUR_IN_PLAIN_WORDS,
  describeBehaviour,
  letterAcknowledgement,
  restrictionAppealDismissed,
  restrictionLifted,
  restrictionNotification,
  restrictionReviewOutcome,
  restrictionVariation,
  type LetterContent,
} from '../../config/letter-templates';
import { CATEGORIES } from '../../rules/types';
import { letterOf, NOTIFICATION } from '../fixtures/letters/sample-letters';

/** The words of a letter as one line, for phrase checks that must not depend on paragraphing. */
const flat = (content: LetterContent): string => [content.title, ...content.paragraphs].join(' ').replace(/\s+/g, ' ');

describe('letter acknowledgement', () => {
  const base = { receivedOn: '3 March 2026', emergencyNumber: '0300 500 8080' };

  it('says when we received it, that we will reply, and how to report an emergency at any time', () => {
    const text = flat(letterAcknowledgement(base));
    expect(text).toContain('received on 3 March 2026');
    expect(text).toContain('as soon as we can');
    expect(text).toContain('0300 500 8080 at any time');
    expect(text).not.toMatch(/words/);
    expect(text).not.toMatch(/already replied/);
  });

  it('says when we will respond under a response-frequency measure', () => {
    const text = flat(letterAcknowledgement({ ...base, respondBy: 'Friday 6 March 2026', responseSchedule: 'once a week, on Fridays' }));
    expect(text).toContain('once a week, on Fridays');
    expect(text).toContain('We will reply to this letter by Friday 6 March 2026');
  });

  it('says the letter is over the word limit and that only the first N words will be actioned', () => {
    const text = flat(letterAcknowledgement({ ...base, wordLimit: { limit: 500, words: 812, exceeded: true } }));
    expect(text).toContain('Your letter is 812 words long');
    expect(text).toContain('We will act on the first 500 words of your letter only');
  });

  it('reminds of the limit without a count when the letter is within it or must be counted by hand', () => {
    for (const wordLimit of [{ limit: 300, words: 120, exceeded: false }, { limit: 300, exceeded: true }]) {
      const text = flat(letterAcknowledgement({ ...base, wordLimit }));
      expect(text).toContain('first 300 words of each letter only');
      expect(text).not.toContain('words long');
    }
  });

  it('says a letter read only in part is over the limit without claiming its length, since the count is of the part read', () => {
    const text = flat(letterAcknowledgement({ ...base, wordLimit: { limit: 500, words: 812, exceeded: true, partlyRead: true } }));
    expect(text).toContain('Your letter is more than 500 words long.');
    expect(text).not.toContain('812');
    expect(text).toContain('we can deal with letters of up to 500 words');
    expect(text).toContain('We will act on the first 500 words of your letter only');
    // A letter read in full still gets its count, as before.
    expect(flat(letterAcknowledgement({ ...base, wordLimit: { limit: 500, words: 812, exceeded: true, partlyRead: false } }))).toContain('Your letter is 812 words long.');
  });

  it('never gives a count or an "over the limit" for a letter read in part but within the limit so far', () => {
    const text = flat(letterAcknowledgement({ ...base, wordLimit: { limit: 500, exceeded: false, partlyRead: true } }));
    expect(text).toContain('Please remember that we will act on the first 500 words of each letter only.');
    expect(text).not.toMatch(/words long|more than/);
  });

  it('refers a repeated matter to the earlier reply by reference and date', () => {
    const text = flat(letterAcknowledgement({ ...base, repeatOf: { reference: 'RESP-2026-0042', respondedOn: '12 February 2026' } }));
    expect(text).toContain('on 12 February 2026 (our reference RESP-2026-0042)');
    expect(text).toContain('we will reply to anything new');
  });

  it('names the contact and says an emergency was passed on at once', () => {
    const text = flat(letterAcknowledgement({ ...base, namedContact: 'Jane Smith', emergency: true }));
    expect(text).toContain('passed to Jane Smith');
    expect(text).toContain('passed it to our emergency team straight away');
  });
});

describe('restriction notification', () => {
  const text = flat(restrictionNotification(NOTIFICATION));

  it('has every part the policy and issue 5 require', () => {
    expect(text).toContain(BEHAVIOUR_IN_PLAIN_WORDS['excessive-contact']); // what behaviour led to it
    expect(text).toContain('212 times');
    expect(text).toContain('We wrote to you about this on 3 February 2026'); // the chance to change first
    for (const measure of NOTIFICATION.measures) expect(text).toContain(measure); // each restriction
    expect(text).toContain('from 1 April 2026'); // from when
    expect(text).toContain('review this decision by 1 October 2026'); // review date
    expect(text).toContain('Jane Smith (Tenancy Specialist) will be your single point of contact'); // SPOC
    expect(text).toContain('0300 500 8000');
    expect(text).toContain('call us on 0300 500 8080 at any time, day or night'); // emergencies
    expect(text).toContain('always open');
    expect(text).toContain('right to appeal'); // appeal: to whom, how, by when
    expect(text).toContain('in writing to Tenancy Specialist Manager');
    expect(text).toContain('Level 6, 6 More London Place, London SE1 2DA');
    expect(text).toContain('appeals@example.org');
    expect(text).toContain('by Wednesday 29 April 2026');
    expect(text).toContain('Housing Ombudsman Service'); // ombudsman
    expect(text).toContain('0300 111 3000');
    expect(text).toContain('https://www.example.org/privacy'); // privacy notice
    expect(text).toContain('text Jane Smith on 07700 900123'); // reasonable adjustment
  });

  it('mentions an end date only when one is set', () => {
    expect(text).not.toContain('will end on');
    expect(flat(restrictionNotification({ ...NOTIFICATION, endsOn: '1 April 2027' }))).toContain('will end on 1 April 2027');
  });

  it('reads as plain text with headings and bullets', () => {
    const plain = renderLetterText(letterOf(restrictionNotification(NOTIFICATION)));
    expect(plain).toContain('\nWhy we have made this decision\n');
    expect(plain).not.toContain('## ');
    expect(plain).toContain('\n- You can phone us on Tuesdays and Thursdays between 10am and 12 noon.');
    expect(plain.startsWith('Tenancy Specialist Team\n')).toBe(true);
    expect(plain.trimEnd().endsWith('Jane Smith\nTenancy Specialist Team')).toBe(true);
  });
});

describe('follow-up letters', () => {
  const common = {
    singlePointOfContact: NOTIFICATION.singlePointOfContact,
    emergencyNumber: '0300 500 8080',
    privacyNoticeUrl: 'https://www.example.org/privacy',
  };

  it('variation: what changed, why, from when, the new review date, emergencies; appeal when offered', () => {
    const input = { ...common, reason: 'You have kept to the call times, so we are adding Mondays.', measures: ['You can phone us on Mondays.'], effectiveOn: '1 June 2026', reviewOn: '1 December 2026' };
    const text = flat(restrictionVariation(input));
    expect(text).toContain('from 1 June 2026');
    expect(text).toContain('adding Mondays');
    expect(text).toContain('You can phone us on Mondays.');
    expect(text).toContain('by 1 December 2026');
    expect(text).toContain('0300 500 8080 at any time');
    expect(text).not.toContain('right to appeal');
    expect(flat(restrictionVariation({ ...input, appeal: NOTIFICATION.appeal }))).toContain('by Wednesday 29 April 2026');
  });

  it('review outcome: continue keeps the measures and gives the next review', () => {
    const text = flat(
      restrictionReviewOutcome({ ...common, outcome: 'continue', reviewedOn: '1 October 2026', reason: 'The calls have continued.', measures: ['You can phone us on Tuesdays.'], nextReviewOn: '1 April 2027' }),
    );
    expect(text).toContain('need to stay in place');
    expect(text).toContain('You can phone us on Tuesdays.');
    expect(text).toContain('again by 1 April 2027');
    expect(text).toContain('0300 500 8080 at any time');
  });

  it('review outcome: lift says the arrangements have ended', () => {
    const content = restrictionReviewOutcome({ ...common, outcome: 'lift', reviewedOn: '1 October 2026', reason: 'Things have improved.' });
    expect(content.title).toMatch(/ended/);
    expect(flat(content)).toContain('any of the usual ways');
    expect(flat(content)).toContain('Things have improved.');
  });

  it('lifting: ended on a date, usual contact restored, emergencies still given', () => {
    const text = flat(restrictionLifted({ liftedOn: '5 May 2026', emergencyNumber: '0300 500 8080', privacyNoticeUrl: 'https://www.example.org/privacy' }));
    expect(text).toContain('ended on 5 May 2026');
    expect(text).toContain('any of the usual ways');
    expect(text).toContain('0300 500 8080 at any time');
  });
});

describe('appeal outcome: dismissed', () => {
  const input = {
    receivedOn: 'Monday 4 May 2026',
    decidedOn: 'Friday 22 May 2026',
    reason: 'We listened to the recordings of your calls. The arrangements are still needed to protect our staff.',
    measures: ['You can phone us on Tuesdays.', 'Jane Smith will deal with your calls and enquiries.'],
    reviewOn: '1 October 2026',
    singlePointOfContact: NOTIFICATION.singlePointOfContact,
    complaintsTo: { name: 'Tenancy Services', email: 'housing@example.org', address: ['1 High Street', 'Exampleton EX1 1AA'] },
    emergencyNumber: '0300 500 8080',
    privacyNoticeUrl: 'https://www.example.org/privacy',
  };
  const content = restrictionAppealDismissed(input);
  const text = flat(content);

  it('gives the outcome: considered by a manager not involved before, and the arrangements stay as they are', () => {
    expect(content.title).toBe('The outcome of your appeal');
    expect(text).toContain('We received your appeal on Monday 4 May 2026');
    expect(text).toContain('A manager who was not involved in the original decision has considered your appeal');
    expect(text).toContain('On Friday 22 May 2026 they decided that the arrangements should stay as they are');
    expect(text).toContain('your appeal has not been successful');
  });

  it('gives the reasons, restates the arrangements, and says when they will be reviewed', () => {
    expect(text).toContain(`## Why we made this decision ${input.reason}`);
    for (const measure of input.measures) expect(text).toContain(`• ${measure}`);
    expect(text).toContain('These are the same arrangements as in our earlier letters.');
    expect(text).toContain('Jane Smith (Tenancy Specialist) will be your single point of contact');
    expect(text).toContain('We will review these arrangements by 1 October 2026 and write to you to tell you the outcome.');
    expect(text).not.toContain('will end on');
    expect(flat(restrictionAppealDismissed({ ...input, endsOn: '1 April 2027' }))).toContain('They will end on 1 April 2027');
  });

  it('says emergencies can be reported at any time, and where to go next: complaints, then the Ombudsman', () => {
    expect(text).toContain('call us on 0300 500 8080 at any time, day or night');
    expect(text).toContain('This is the end of our appeal process for this decision.');
    expect(text).toContain('make a complaint through our complaints procedure');
    expect(text).toContain('By email: housing@example.org');
    expect(text).toContain('By post: 1 High Street, Exampleton EX1 1AA');
    expect(text).toContain('Housing Ombudsman Service');
    expect(text).toContain('0300 111 3000');
    expect(text).toContain('https://www.example.org/privacy');
    expect(text).toContain('large print, Braille, audio or another language');
    // No further appeal is offered: the appeal has been decided.
    expect(text).not.toContain('right to appeal');
  });

  it('leaves out what it does not know, and any adjustments are restated', () => {
    const bare = flat(restrictionAppealDismissed({ ...input, receivedOn: undefined, reason: '  ', adjustments: ['You can also text Jane Smith on 07700 900123.'] }));
    expect(bare).not.toContain('We received your appeal on');
    expect(bare).toContain('You asked us to look again at our decision about how you can contact us.');
    expect(bare).not.toContain('Why we made this decision');
    expect(bare).toContain('• You can also text Jane Smith on 07700 900123.');
  });

  it('reads as plain text with headings and bullets', () => {
    const plain = renderLetterText(letterOf(content));
    expect(plain).toContain('\nWhy we made this decision\n');
    expect(plain).toContain('\n- You can phone us on Tuesdays.');
    expect(plain).not.toContain('## ');
  });
});

describe('plain words', () => {
  it('has a sentence for every behaviour category, and adds the specifics', () => {
    for (const category of CATEGORIES) expect(BEHAVIOUR_IN_PLAIN_WORDS[category]).toBeDefined();
    expect(describeBehaviour('abusive-contact', 'On 2 March you swore at a member of staff.')).toMatch(/abusive.*On 2 March/);
    expect(describeBehaviour('something-new')).toBe(BEHAVIOUR_IN_PLAIN_WORDS.other);
  });
});
