import fc from 'fast-check';

import { DEFAULT_REPEAT_THRESHOLD, findRepeat, shingles, similarity } from '../../rules/repeat-detection';
import type { RespondedContact } from '../../rules/types';

const SIGNATURE = '\n\nKind regards\nMrs Jane Patel\n14 Rose Walk\nLeeds LS1 2AB\nTel 0113 496 0000';

/** The same issue again: reworded, reordered, re-greeted, re-signed. All must score at or above the threshold. */
const SAME_ISSUE: Array<[string, string, string]> = [
  [
    'reworded',
    'The extractor fan in my bathroom has stopped working and the room is full of steam every time I shower.',
    'My bathroom extractor fan has stopped working, so the room is full of steam every time I have a shower.',
  ],
  [
    'reordered clauses, "again", greeting and sign-off added',
    'I am writing about the damp and black mould in my back bedroom. It has come back again after it was treated in March and my son has asthma.',
    'Dear Sir or Madam,\n\nI am writing AGAIN about the damp and black mould in my back bedroom. It was treated in March but it has come back again and my son has asthma.\n\nRegards, Mrs Patel',
  ],
  [
    'sentences reordered',
    'The neighbours in flat 12 play loud music every night until 2am and I cannot sleep. I have asked them to turn it down.',
    'I have asked the neighbours in flat 12 to turn it down but they still play loud music every night until 2am and I cannot sleep.',
  ],
  [
    'greeting, preface and sign-off added',
    'Hello, my fence panel at the back of the garden blew down in the storm and my dog keeps getting out. Please can you replace it.',
    'Good morning,\n\nFurther to my email last week: my fence panel at the back of the garden blew down in the storm and my dog keeps getting out. Please can you replace it as soon as possible.\n\nMany thanks\nJohn',
  ],
  [
    'question turned around',
    'Why has my rent gone up by £12 a week when the repairs to my kitchen still have not been done?',
    'My rent has gone up by £12 a week and the repairs to my kitchen still have not been done. Why?',
  ],
  [
    'cause and effect swapped, a line added',
    'The communal front door to the block does not close properly and strangers are getting into the building at night.',
    'Strangers are getting into the building at night because the communal front door to the block does not close properly. This is the third time I have reported it.',
  ],
  [
    'demand moved to the end',
    'I want compensation for the three days I had to take off work waiting for your contractor who never turned up to fix my boiler.',
    'I had to take three days off work waiting for your contractor, who never turned up to fix my boiler, and I want compensation for it.',
  ],
  [
    'reordered, with iPhone footer',
    'The bath panel is cracked and the sealant around the bath has gone black and is letting water under the bath.',
    'Hi\n\nthe sealant around the bath has gone black and is letting water under the bath, and the bath panel is cracked.\n\nSent from my iPhone',
  ],
  [
    'short, reworded, different sign-off',
    `Dear Housing,\n\nThe light in my hallway has stopped working.${SIGNATURE}`,
    'Hello\n\nThe hallway light has stopped working, please fix it.\n\nThanks\nJane',
  ],
  [
    'reply that quotes our response but restates the complaint',
    'The gutter at the front is overflowing onto my doorstep whenever it rains.',
    'The gutter at the front is still overflowing onto my doorstep whenever it rains.\n\nOn Mon, 3 Jun 2024, Repairs <r@example.org> wrote:\n> We cleared the gutter on 1 June.',
  ],
];

/** Different issues, often from the same customer in the same style. All must score below the threshold. */
const DIFFERENT_ISSUE: Array<[string, string, string]> = [
  [
    'different repairs',
    'The extractor fan in my bathroom has stopped working and the room is full of steam every time I shower.',
    'The kitchen tap has been dripping for two weeks and it is getting worse every day.',
  ],
  [
    'same greeting, address and sign-off, different subject',
    'Dear Sir or Madam,\n\nI am writing about the damp and black mould in my back bedroom at 14 Rose Walk.\n\nRegards, Mrs Patel',
    'Dear Sir or Madam,\n\nI am writing about my rent statement for 14 Rose Walk, which I have not received.\n\nRegards, Mrs Patel',
  ],
  [
    'same neighbours, different behaviour',
    'The neighbours in flat 12 play loud music every night until 2am and I cannot sleep.',
    'The neighbours in flat 12 park their van across my drive every night and I cannot get my car out.',
  ],
  [
    'same garden, different defect',
    'My fence panel at the back of the garden blew down in the storm.',
    'The back garden gate will not latch and the garden path is cracked.',
  ],
  ['different charges', 'Why has my rent gone up by £12 a week?', 'Why has my service charge gone up when the communal cleaning has stopped?'],
  [
    'compensation versus conduct',
    'I want compensation for the days I took off work waiting for your contractor.',
    'I want to complain about the way your officer spoke to me on the phone on Tuesday.',
  ],
  [
    'same opening formula',
    'Hello, this is about my boiler. It is making a banging noise when the heating comes on.',
    'Hello, this is about my windows. They are not closing properly and there is a draught.',
  ],
  [
    'same request formula',
    'Please can you tell me when my gas safety check is due.',
    'Please can you tell me how to apply for a transfer to a bigger property.',
  ],
  [
    'long shared signature block',
    `Dear Housing,\n\nThe light in my hallway has stopped working.${SIGNATURE}`,
    `Dear Housing,\n\nMy kitchen sink is blocked and smells.${SIGNATURE}`,
  ],
  [
    'new issue in a reply that quotes the old one',
    'The gutter at the front is overflowing onto my doorstep whenever it rains.',
    'Now the doorbell has stopped working as well.\n\nOn Mon, 3 Jun 2024, Jo <jo@example.org> wrote:\n> The gutter at the front is overflowing onto my doorstep whenever it rains.',
  ],
];

describe('similarity — table against DEFAULT_REPEAT_THRESHOLD', () => {
  test('prints the table', () => {
    const rows = [
      ...SAME_ISSUE.map(([name, a, b]) => `  same  ${similarity(a, b).toFixed(2)}  ${name}`),
      ...DIFFERENT_ISSUE.map(([name, a, b]) => `  diff  ${similarity(a, b).toFixed(2)}  ${name}`),
    ];
    console.log(`repeat similarity (threshold ${DEFAULT_REPEAT_THRESHOLD}):\n${rows.join('\n')}`);
    expect(SAME_ISSUE.length + DIFFERENT_ISSUE.length).toBeGreaterThanOrEqual(12);
  });

  test.each(SAME_ISSUE)('same issue at or above threshold: %s', (_name, a, b) => {
    expect(similarity(a, b)).toBeGreaterThanOrEqual(DEFAULT_REPEAT_THRESHOLD);
  });

  test.each(DIFFERENT_ISSUE)('different issue below threshold: %s', (_name, a, b) => {
    expect(similarity(a, b)).toBeLessThan(DEFAULT_REPEAT_THRESHOLD);
  });

  test('the threshold leaves a margin on both sides of the table', () => {
    const lowestSame = Math.min(...SAME_ISSUE.map(([, a, b]) => similarity(a, b)));
    const highestDifferent = Math.max(...DIFFERENT_ISSUE.map(([, a, b]) => similarity(a, b)));
    expect(lowestSame - DEFAULT_REPEAT_THRESHOLD).toBeGreaterThanOrEqual(0.02);
    expect(DEFAULT_REPEAT_THRESHOLD - highestDifferent).toBeGreaterThanOrEqual(0.1);
  });
});

describe('shingles', () => {
  test('3-word shingles over normalised, stop-word-free, lightly stemmed words', () => {
    expect([...shingles('The boiler is LEAKING, and the boiler leaks!')]).toEqual([
      'boiler leak boiler',
      'leak boiler leak',
    ]);
  });

  test('short texts fall back to single words', () => {
    expect(shingles('Boiler leaking')).toEqual(new Set(['boiler', 'leak']));
    expect(shingles('the and of')).toEqual(new Set());
  });

  test('size is configurable', () => {
    expect(shingles('red green blue', 1)).toEqual(new Set(['red', 'green', 'blue']));
    expect(shingles('red green blue', 2)).toEqual(new Set(['red green', 'green blue']));
  });
});

describe('similarity — edge cases', () => {
  test('unrelated texts score 0, identical texts 1', () => {
    expect(similarity('boiler leaking badly', 'rent statement request')).toBe(0);
    expect(similarity('boiler leaking badly', 'boiler leaking badly')).toBe(1);
  });

  test('texts without content words compare on their words, then on exact equality', () => {
    expect(similarity('the and', 'the and')).toBe(1);
    expect(similarity('the and', 'of to')).toBe(0);
    expect(similarity('!!!', '!!!')).toBe(1);
    expect(similarity('!!!', '???')).toBe(0);
  });
});

describe('similarity — properties', () => {
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 120 }),
    fc
      .array(fc.constantFrom('boiler', 'leak', 'the', 'rent', 'mould', 'door', 'broken', 'and', 'again', 'window'), {
        maxLength: 20,
      })
      .map((w) => w.join(' ')),
  );

  test('symmetric and within [0, 1]', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const ab = similarity(a, b);
        expect(ab).toBe(similarity(b, a));
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(1);
      }),
    );
  });

  test('similarity(x, x) = 1 for non-empty x', () => {
    fc.assert(
      fc.property(
        text.filter((x) => x.length > 0),
        (x) => {
          expect(similarity(x, x)).toBe(1);
        },
      ),
    );
  });
});

describe('findRepeat', () => {
  const contact = (contactId: string, text: string, respondedAt: string): RespondedContact => ({
    contactId,
    text,
    respondedAt,
    reference: `REF-${contactId}`,
  });
  const mould = 'There is black mould in my back bedroom again and my son has asthma.';
  const fence = 'My fence panel blew down in the storm and the dog gets out.';

  test('returns the best match at or above the threshold, with its score', () => {
    const responded = [contact('c1', fence, '2026-01-10T10:00:00Z'), contact('c2', mould, '2026-02-01T10:00:00Z')];
    const found = findRepeat('Dear Sir, there is black mould in my back bedroom again and my son has asthma.', responded, 0.35);
    expect(found?.contact.contactId).toBe('c2');
    expect(found?.score).toBeGreaterThanOrEqual(0.35);
  });

  test('returns undefined when nothing reaches the threshold', () => {
    expect(findRepeat('The kitchen tap drips constantly.', [contact('c1', fence, '2026-01-10T10:00:00Z')], 0.35)).toBeUndefined();
    expect(findRepeat(mould, [], 0.35)).toBeUndefined();
  });

  test('a greeting is set aside only when it stands alone, not when it opens the issue', () => {
    const responded = [contact('c1', 'Hi the boiler is leaking under the kitchen', '2026-01-10T10:00:00Z')];
    expect(findRepeat('Hi Jo,\nThe boiler is leaking under the kitchen', responded, 0.35)?.contact.contactId).toBe('c1');
    expect(similarity('Hi the boiler is leaking', 'Hello the rent is late')).toBe(0);
  });

  test('a text with no content words is never a repeat', () => {
    expect(findRepeat('the and', [contact('c1', 'the and', '2026-01-10T10:00:00Z')], 0)).toBeUndefined();
  });

  test('ties go to the most recent response, whatever the order given', () => {
    const older = contact('old', mould, '2026-01-01T09:00:00Z');
    const newer = contact('new', mould, '2026-03-01T09:00:00Z');
    expect(findRepeat(mould, [older, newer], 0.35)?.contact.contactId).toBe('new');
    expect(findRepeat(mould, [newer, older], 0.35)?.contact.contactId).toBe('new');
  });

  test('a higher score beats a more recent response', () => {
    const exact = contact('exact', mould, '2026-01-01T09:00:00Z');
    const partial = contact('partial', `${mould} Also the fence blew down.`, '2026-03-01T09:00:00Z');
    expect(findRepeat(mould, [partial, exact], 0.35)?.contact.contactId).toBe('exact');
  });

  test('the score is the same as similarity()', () => {
    const responded = [contact('c1', mould, '2026-01-01T09:00:00Z')];
    const text = 'Hi, the black mould in my back bedroom is back again and my son has asthma.';
    expect(findRepeat(text, responded, 0)?.score).toBe(similarity(text, mould));
  });
});
