import fc from 'fast-check';

import { EMERGENCY_PHRASES } from '../../config/emergency-phrases';
import { compilePhrases, detectEmergency, EmergencyPhraseError } from '../../rules/emergency';
import { EMERGENCY_CORPUS } from '../fixtures/emergency-corpus';
import { ORDINARY_CORPUS } from '../fixtures/ordinary-corpus';

const detect = (text: string) => detectEmergency(text, EMERGENCY_PHRASES);
const label = (text: string) => text.replace(/\s+/g, ' ').slice(0, 80);

describe('emergency corpus (recall)', () => {
  test.each(EMERGENCY_CORPUS.map((text) => [label(text), text]))('detects: %s', (_label, text) => {
    const result = detect(text);
    expect(result.emergency).toBe(true);
    expect(result.matched.length).toBeGreaterThan(0);
  });
});

describe('corpus figures', () => {
  test('all emergencies detected and at least 90% of ordinary messages left alone', () => {
    expect(EMERGENCY_CORPUS.length).toBeGreaterThanOrEqual(85);
    expect(ORDINARY_CORPUS.length).toBeGreaterThanOrEqual(85);
    const detected = EMERGENCY_CORPUS.filter((text) => detect(text).emergency).length;
    const flagged = ORDINARY_CORPUS.filter((text) => detect(text).emergency);
    const leftAlone = ORDINARY_CORPUS.length - flagged.length;
    console.log(
      `emergency recall ${detected}/${EMERGENCY_CORPUS.length}, ordinary specificity ${leftAlone}/${ORDINARY_CORPUS.length}` +
        (flagged.length > 0 ? `; flagged ordinary: ${flagged.map((t) => JSON.stringify(label(t))).join(', ')}` : ''),
    );
    expect(detected).toBe(EMERGENCY_CORPUS.length);
    expect(leftAlone / ORDINARY_CORPUS.length).toBeGreaterThanOrEqual(0.9);
  });
});

describe('detectEmergency — what it reports', () => {
  test('reports the matched phrases as written in the list, once each, in list order', () => {
    const phrases = ['gas leak', 'smoke', 'fire'];
    expect(detectEmergency('Fire! smoke, more smoke, and a gas leak', phrases)).toEqual({
      emergency: true,
      matched: ['gas leak', 'smoke', 'fire'],
    });
  });

  test('ordinary text and empty text are not emergencies', () => {
    expect(detectEmergency('the tap drips', ['gas leak'])).toEqual({ emergency: false, matched: [] });
    expect(detectEmergency('', EMERGENCY_PHRASES)).toEqual({ emergency: false, matched: [] });
    expect(detectEmergency('!!! ... ???', EMERGENCY_PHRASES)).toEqual({ emergency: false, matched: [] });
  });

  test('normalises case, Unicode compatibility forms, accents, apostrophes and punctuation', () => {
    expect(detectEmergency('GAS—LEAK!!!', ['gas leak']).emergency).toBe(true);
    expect(detectEmergency('ｇａｓ ｌｅａｋ', ['gas leak']).emergency).toBe(true); // full-width forms (NFKC)
    expect(detectEmergency('I can’t breathe', ['cant breathe']).emergency).toBe(true);
    expect(detectEmergency("I can't breathe", ['cant breathe']).emergency).toBe(true);
    expect(detectEmergency('mae ar dân', ['ar dan']).emergency).toBe(true); // Welsh circumflex folded
  });

  test('the list in config finds Welsh gas reports', () => {
    expect(detect('Mae arogl nwy cryf yn y gegin').emergency).toBe(true);
  });
});

describe('phrase syntax', () => {
  test('plain words must be adjacent and in order', () => {
    expect(detectEmergency('the gas is leaking', ['gas leak']).emergency).toBe(false);
    expect(detectEmergency('leak of gas', ['gas leak']).emergency).toBe(false);
  });

  test('a standalone * allows up to four words between', () => {
    const phrases = ['water * ceiling'];
    expect(detectEmergency('water ceiling', phrases).emergency).toBe(true);
    expect(detectEmergency('water is coming through the ceiling', phrases).emergency).toBe(true);
    expect(detectEmergency('water is coming down through the ceiling', phrases).emergency).toBe(false);
  });

  test('a standalone ** allows up to twelve words between, within one sentence', () => {
    const phrases = ['water ** socket'];
    expect(detectEmergency('water is coming down the walls from upstairs and into the plug socket', phrases).emergency).toBe(true);
    expect(detectEmergency('My water bill is high. The socket is loose.', phrases).emergency).toBe(false);
    expect(detectEmergency('water here\n\nsocket there', phrases).emergency).toBe(false); // a blank line ends a sentence
    expect(detectEmergency('water is coming down\nthe wall to the socket', phrases).emergency).toBe(true); // a line break does not
    expect(detectEmergency('water a b c d e f g h i j k l socket', phrases).emergency).toBe(true); // 12 between
    expect(detectEmergency('water a b c d e f g h i j k l m socket', phrases).emergency).toBe(false); // 13 between
  });

  test('a trailing * matches any word with that start', () => {
    expect(detectEmergency('the flat is flooding', ['flood*']).emergency).toBe(true);
    expect(detectEmergency('new flooring please', ['flood*']).emergency).toBe(false);
  });

  test('slashes give alternatives for one word slot', () => {
    const phrases = ['no heating/heat'];
    expect(detectEmergency('no heat', phrases).emergency).toBe(true);
    expect(detectEmergency('no heating', phrases).emergency).toBe(true);
    expect(detectEmergency('no hot water', phrases).emergency).toBe(false);
  });

  test('a word also matches its -s form, so plurals and lost apostrophes work', () => {
    expect(detectEmergency('burst pipes', ['burst pipe']).emergency).toBe(true);
    expect(detectEmergency("the water's been cut off", ['water * cut off']).emergency).toBe(true);
  });

  test('~ accepts one insertion, deletion, substitution or swap on that word only', () => {
    const phrases = ['ceiling~ down'];
    for (const typo of ['cieling', 'celing', 'ceilling', 'ceiking']) {
      expect(detectEmergency(`the ${typo} down`, phrases).emergency).toBe(true);
    }
    expect(detectEmergency('the cilnig down', phrases).emergency).toBe(false); // two edits
    expect(detectEmergency('the ceiling dwon', phrases).emergency).toBe(false); // "down" has no ~
  });

  test('ignore: a match ending inside a harmless phrase does not count', () => {
    const phrases = ['fire', 'no water', 'ignore: fire door', 'ignore: no water damage'];
    expect(detectEmergency('fire door inspection on Tuesday', phrases).emergency).toBe(false);
    expect(detectEmergency('the fire door is on fire', phrases).matched).toEqual(['fire']);
    expect(detectEmergency('there is no water damage', phrases).emergency).toBe(false);
    expect(detectEmergency('there is no water at all', phrases).emergency).toBe(true);
  });

  test('ignore: a harmless phrase is read within one sentence', () => {
    const phrases = ['no reason * live', 'threat* me', 'ignore: live there', 'ignore: threat* me * eviction'];
    expect(detectEmergency('I would like to live there', phrases).emergency).toBe(false);
    expect(detectEmergency('I have no reason to live there any more', phrases).emergency).toBe(false);
    expect(detectEmergency('I have no reason to live. There is nothing left', phrases).matched).toEqual(['no reason * live']);
    expect(detectEmergency('I have no reason to live\n\nthere is a leak too', phrases).emergency).toBe(true);
    expect(detectEmergency('you threatened me with eviction', phrases).emergency).toBe(false);
    expect(detectEmergency('he threatens me. You threatened me with eviction', phrases).matched).toEqual(['threat* me']);
  });

  test('ignore: a match that wholly contains the harmless phrase still counts', () => {
    const phrases = ['smell * gas fire', 'ignore: gas fire'];
    expect(detectEmergency('a smell from the gas fire', phrases).emergency).toBe(true);
  });

  test('a one-word ignore marks a real word that is not a misspelling', () => {
    expect(detectEmergency('no hearing', ['no heating~']).emergency).toBe(true);
    expect(detectEmergency('no hearing', ['no heating~', 'ignore: hearing']).emergency).toBe(false);
    expect(detectEmergency('no heatign', ['no heating~', 'ignore: hearing']).emergency).toBe(true);
  });

  test('malformed phrases are refused with a typed error naming the phrase', () => {
    for (const bad of ['* gas', 'gas *', 'gas * * leak', '   ', 'gas~', 'ignore: ceiling~', '//']) {
      let error: unknown;
      try {
        compilePhrases([bad]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(EmergencyPhraseError);
      expect((error as EmergencyPhraseError).code).toBe('invalid-emergency-phrase');
      expect((error as EmergencyPhraseError).phrase).toBe(bad);
    }
  });

  test('compiles each list once, by identity', () => {
    const list = Object.freeze(['gas leak']);
    expect(compilePhrases(list)).toBe(compilePhrases(list));
    expect(compilePhrases(list)).not.toBe(compilePhrases(Object.freeze(['gas leak'])));
  });

  test('the config list compiles', () => {
    expect(() => compilePhrases(EMERGENCY_PHRASES)).not.toThrow();
  });
});

describe('properties', () => {
  test('deterministic and independent of surrounding ordinary text', () => {
    const ordinary = fc.constantFrom(...ORDINARY_CORPUS.slice(0, 20));
    fc.assert(
      fc.property(fc.constantFrom(...EMERGENCY_CORPUS), ordinary, ordinary, (emergency, before, after) => {
        const text = `${before}\n\n${emergency}\n\n${after}`;
        expect(detect(text)).toEqual(detect(text));
        expect(detect(text).emergency).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test('never throws and always returns a boolean with matches when true', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const result = detect(text);
        expect(result.emergency).toBe(result.matched.length > 0);
      }),
      { numRuns: 300 },
    );
  });

  test('a 2,000-word email is handled (long text, emergency deep inside)', () => {
    const filler = ORDINARY_CORPUS.slice(0, 40).join(' ');
    const words = filler.split(/\s+/).length;
    const repeats = Math.ceil(1000 / words);
    const padding = Array.from({ length: repeats }, () => filler).join(' ');
    const text = `${padding} and the ceiling has come down in the bedroom ${padding}`;
    expect(text.split(/\s+/).length).toBeGreaterThanOrEqual(2000);
    const aboutCeiling = (matched: string[]) => matched.some((phrase) => phrase.startsWith('ceiling'));
    expect(aboutCeiling(detect(padding).matched)).toBe(false);
    expect(aboutCeiling(detect(text).matched)).toBe(true);
  });
});
