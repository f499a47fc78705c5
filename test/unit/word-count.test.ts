import fc from 'fast-check';

import { authoredText, countWords } from '../../rules/word-count';

describe('authoredText', () => {
  test('drops > quoted lines but keeps replies written between them', () => {
    const text = ['Yes, Tuesday is fine.', '> Can we come on Tuesday?', '> Regards, Repairs', 'Thanks, Sam'].join('\n');
    expect(authoredText(text)).toBe('Yes, Tuesday is fine.\nThanks, Sam');
  });

  test('cuts a Gmail "On … wrote:" attribution and everything after it', () => {
    const text = 'The leak is back.\n\nOn Mon, 3 Jun 2024 at 10:02, Repairs <repairs@example.org> wrote:\nWe fixed it.\n> old';
    expect(authoredText(text)).toBe('The leak is back.');
  });

  test('cuts an attribution that Gmail wrapped over two lines', () => {
    const text = 'Still broken.\n\nOn Mon, 3 Jun 2024 at 10:02, Housing Team <\nhousing@example.org> wrote:\n\nWe will visit.';
    expect(authoredText(text)).toBe('Still broken.');
  });

  test('cuts a Welsh Gmail attribution', () => {
    const text = 'Diolch.\n\nAr ddydd Llun, 3 Meh 2024, Tîm Tai <tai@example.org> ysgrifennodd:\n> Helo';
    expect(authoredText(text)).toBe('Diolch.');
  });

  test('cuts an Outlook "-----Original Message-----" block', () => {
    const text = 'Please call me.\r\n\r\n-----Original Message-----\r\nFrom: Housing\r\nSent: 1 May\r\nTo: me\r\nSubject: Repair';
    expect(authoredText(text)).toBe('Please call me.');
  });

  test('cuts an Outlook From/Sent/To/Subject header block, plain or bold, with or without the underscore rule', () => {
    const plain = 'See below.\n\nFrom: Housing Team\nSent: 01 May 2024 09:00\nTo: Jo Bloggs\nSubject: RE: Repair\n\nBody';
    expect(authoredText(plain)).toBe('See below.');
    const bold = 'See below.\n\n*From:* Housing Team\n*Sent:* 01 May 2024 09:00\n*To:* Jo\n*Subject:* Repair\nBody';
    expect(authoredText(bold)).toBe('See below.');
    const ruled = 'See below.\n________________________________\nFrom: Housing Team <h@example.org>\nSent: Wednesday\nTo: Jo\nBody';
    expect(authoredText(ruled)).toBe('See below.');
  });

  test('a letter that opens with a From/To/Date memo heading is kept', () => {
    const letter = 'From: Mrs J Patel\nTo: Housing Services\nDate: 1 May 2024\n\nThe window is broken.';
    expect(authoredText(letter)).toBe(letter);
  });

  test('cuts forwarded-message banners', () => {
    expect(authoredText('FYI\n---------- Forwarded message ---------\nFrom: x\nHello')).toBe('FYI');
    expect(authoredText('FYI\nBegin forwarded message:\n\nFrom: x')).toBe('FYI');
  });

  test('cuts an RFC 3676 "-- " signature, and a bare "--" line', () => {
    expect(authoredText('Thanks for fixing it.\n-- \nJo Bloggs\n07700 900123')).toBe('Thanks for fixing it.');
    expect(authoredText('Thanks for fixing it.\n--\nJo Bloggs')).toBe('Thanks for fixing it.');
    expect(authoredText('a -- b\nc')).toBe('a -- b\nc'); // a dash pair inside a line is prose
  });

  test('drops device footers but keeps the sign-off the sender typed', () => {
    expect(authoredText('Door still sticks.\nKind regards,\nJo\n\nSent from my iPhone')).toBe(
      'Door still sticks.\nKind regards,\nJo',
    );
    expect(authoredText('ok\n\nGet Outlook for Android')).toBe('ok');
    expect(authoredText('ok\nSent from my Samsung Galaxy smartphone.')).toBe('ok');
    expect(authoredText('I was sent from my GP to ask you')).toBe('I was sent from my GP to ask you');
  });
});

describe('countWords — table', () => {
  test.each<[string, string, number]>([
    ['plain sentence', 'The kitchen tap is dripping.', 5],
    ['empty', '', 0],
    ['whitespace only', '  \n\t ', 0],
    ['standalone punctuation', 'Hello — ! ? ... ;', 1],
    ['hyphenated words count once', 'a well-known, long-standing problem', 4],
    ['numbers count, including decimals and thousands', 'I paid £1,250.50 on 3 May for 2 repairs', 9],
    ['contractions are one word', "I can't and won't", 4],
    ['accented words', 'café naïve façade', 3],
    ['Welsh with a circumflex', 'Mae’r tŷ yn oer iawn', 5],
    ['Japanese by dictionary', '日本語のテキスト', 3],
    ['Chinese by dictionary', '我的厨房漏水了', 4],
    ['emoji only', '😀 👍', 2],
    ['emoji among words', 'thanks 🙏 so much', 4],
    ['a family emoji is one', '👨‍👩‍👧', 1],
    ['© and ™ are not words', 'Copyright © 2024 ™', 2],
    ['Gmail reply counts only the new text', 'Still leaking.\n\nOn Tue, 4 Jun 2024, Repairs <r@example.org> wrote:\n> We fixed it\n> last week', 2],
    [
      'Outlook thread counts only the new text',
      'Please see my reply below today.\n\nFrom: Housing\nSent: Monday\nTo: Jo\nSubject: Repair\n\nOne two three four five six',
      6,
    ],
    ['signature after "-- " not counted', 'Fine thanks.\n-- \nJo Bloggs\nFlat 2, 10 High Street', 2],
    ['iPhone footer not counted', 'On my way.\n\nSent from my iPhone', 3],
  ])('%s', (_name, text, expected) => {
    expect(countWords(text)).toBe(expected);
  });
});

// Words that cannot form quoting or signature markers: letters and digits only.
const alnumWord = fc.stringMatching(/^[A-Za-z0-9]{1,12}$/);
// Tokens from several scripts, plus punctuation and emoji tokens, to exercise segmentation.
const token = fc.oneof(
  alnumWord,
  fc.constantFrom('well-known', 'café', 'tŷ', '3.5', '1,000', "don't", '日本語', '😀', '👍', '!', '—', '...', '?'),
);
const whitespace = fc.constantFrom(' ', '  ', '\t', '\n', ' \n ', '\n\n');
const prose = fc
  .array(fc.tuple(token, whitespace), { maxLength: 30 })
  .map((parts) => parts.map(([t, w]) => `${t}${w}`).join(''));

describe('countWords — properties', () => {
  test('n alphanumeric words joined by single spaces count n', () => {
    fc.assert(
      fc.property(fc.array(alnumWord, { maxLength: 60 }), (words) => {
        expect(countWords(words.join(' '))).toBe(words.length);
      }),
    );
  });

  test('counting is additive over concatenation with whitespace', () => {
    fc.assert(
      fc.property(prose, whitespace, prose, (a, gap, b) => {
        expect(countWords(`${a}${gap}${b}`)).toBe(countWords(a) + countWords(b));
      }),
    );
  });

  test('never negative, always an integer, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const n = countWords(text);
        expect(Number.isInteger(n)).toBe(true);
        expect(n).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  test('appending "> quoted" lines never increases the count', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((l) => !/[\r\n]/.test(l));
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.array(line, { minLength: 1, maxLength: 5 }), (text, quoted) => {
        const appended = text + quoted.map((q) => `\n> ${q}`).join('');
        expect(countWords(appended)).toBeLessThanOrEqual(countWords(text));
      }),
    );
  });

  test('appending a quoted copy of itself does not change the count of prose', () => {
    fc.assert(
      fc.property(prose, (text) => {
        const quoted = text
          .split('\n')
          .map((l) => `> ${l}`)
          .join('\n');
        expect(countWords(`${text}\n${quoted}`)).toBe(countWords(text));
      }),
    );
  });
});

describe('the plain-word fast path', () => {
  /** The Unicode rules applied to the whole text at once: what countWords must always agree with. */
  function segmenterCount(text: string): number {
    const words = new Intl.Segmenter('en-GB', { granularity: 'word' });
    const hyphens = new Set(['-', '‐', '‑']);
    let count = 0;
    let inWord = false;
    let afterHyphen = false;
    for (const { segment, isWordLike } of words.segment(authoredText(text))) {
      if (isWordLike) {
        if (!afterHyphen) count += 1;
        inWord = true;
        afterHyphen = false;
      } else if (inWord && !afterHyphen && hyphens.has(segment)) {
        afterHyphen = true;
      } else {
        inWord = false;
        afterHyphen = false;
      }
    }
    return count;
  }

  it('agrees with the Unicode word rules on text mixing words, punctuation, apostrophes, hyphens and numbers', () => {
    const token = fc.constantFrom('rent', 'Repair', "don't", 'it’s', 'well-known', '3rd', '12.5', '£40', '(note)', '"quoted"', 'end.', 'e.g.', '...', '-', '—', 'café', 'Łódź', 'x', 'A1B2', "'tis", 'rock’n’roll');
    const space = fc.constantFrom(' ', '  ', '\n', '\t', ' \n ');
    fc.assert(
      fc.property(fc.array(fc.tuple(token, space), { maxLength: 40 }), (pairs) => {
        const text = pairs.map(([t, s]) => t + s).join('');
        expect(countWords(text)).toBe(segmenterCount(text));
      }),
      { numRuns: 300 },
    );
  });
});
