import fc from 'fast-check';

import { DEFAULT_CUSTOMER_REFERENCE, findCustomerReference, findCustomerReferences } from '../../channels/letters/reference';

describe('findCustomerReference', () => {
  it.each([
    ['My customer number is C12345, thank you', 'C12345'],
    ['Ref: C 12345', 'C12345'],
    ['Customer reference C-12345', 'C12345'],
    ['Account no: C\u201398765.', 'C98765'],
    ['your ref c12345', 'C12345'],
    ['C123 is the one', 'C123'],
  ])('finds the reference in %j', (text, expected) => {
    expect(findCustomerReference(text)).toBe(expected);
  });

  it.each([
    ['no reference here at all', 'none'],
    ['Block C 123, Flat 4', 'a space-split reference without a label (an address)'],
    ['Parcel ABC12345 arrived', 'a reference inside a longer token'],
    ['C111 complained about C222', 'two different unlabelled references'],
    ['Our ref: C 11111, your ref: C 22222', 'two different labelled references'],
    ['C12', 'too few digits'],
  ])('returns nothing for %j (%s)', (text) => {
    expect(findCustomerReference(text)).toBeUndefined();
  });

  it('prefers a labelled reference over an unlabelled one', () => {
    expect(findCustomerReference('I live next to C11111. My reference is C 22222.')).toBe('C22222');
  });

  it('takes a pattern as a string (as config holds it), case-sensitively when it says so', () => {
    expect(findCustomerReference('Ref: T-00042 (tenancy)', 'T\\d{5}')).toBe('T00042');
    expect(findCustomerReference('ref t00042', 'T\\d{5}')).toBeUndefined();
    expect(findCustomerReference('ref t00042', /T\d{5}/i)).toBe('T00042');
  });

  it('accepts a global or sticky pattern without being confused by its state', () => {
    const sticky = /C\d{3,}/gy;
    expect(findCustomerReference('Ref C4567', sticky)).toBe('C4567');
    expect(findCustomerReference('Ref C4567', sticky)).toBe('C4567');
  });

  it('finds any id however it is written next to a label', () => {
    const separator = fc.constantFrom('', ' ', '-', ' - ', '.', '/');
    const label = fc.constantFrom('Ref:', 'Reference', 'Customer reference', 'Account', 'Our ref', 'customer no.');
    const filler = fc.array(fc.constantFrom('please', 'help', 'with', 'the', 'repair', 'at', 'flat', '4', 'today'), { maxLength: 8 });
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 9_999_999 }), separator, label, filler, filler, (n, sep, lbl, before, after) => {
        const text = [...before, `${lbl} C${sep}${n}`, ...after].join(' ');
        expect(findCustomerReference(text)).toBe(`C${n}`);
      }),
    );
  });

  it('never returns something the pattern does not match', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const found = findCustomerReference(text);
        if (found !== undefined) expect(new RegExp(`^${DEFAULT_CUSTOMER_REFERENCE.source}$`, 'i').test(found)).toBe(true);
      }),
    );
  });
});

describe('findCustomerReferences', () => {
  it('gives every reference of the best tier, distinct and sorted, so that two can be called ambiguous', () => {
    expect(findCustomerReferences('Ref C300 and also about C310')).toEqual(['C300', 'C310']);
    expect(findCustomerReferences('I live next to C11111. My reference is C 22222.')).toEqual(['C22222']);
    expect(findCustomerReferences('Ref c300, again ref C300')).toEqual(['C300']);
    expect(findCustomerReferences('No reference here')).toEqual([]);
  });
});
