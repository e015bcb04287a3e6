import { describe, expect, it } from 'vitest';
import { deployMinSize, sizeTags } from '../../../domain/sizes';

const ORG = 'acme';
const tags = (min?: string, max?: string) => [
  ...(min === undefined ? [] : [{ Key: `${ORG}:min_size`, Value: min }]),
  ...(max === undefined ? [] : [{ Key: `${ORG}:max_size`, Value: max }]),
];

describe('Function: sizeTags', () => {
  it('uses min 0 and max 4 by default', () => {
    expect(sizeTags(undefined, ORG)).toStrictEqual({ minSize: 0, maxSize: 4 });
    expect(sizeTags([], ORG)).toStrictEqual({ minSize: 0, maxSize: 4 });
  });

  it('reads both tags under the org prefix', () => {
    expect(sizeTags(tags('2', '10'), ORG)).toStrictEqual({ minSize: 2, maxSize: 10 });
  });

  it.each([
    ['only min_size', tags('3'), { minSize: 3, maxSize: 4 }],
    ['only max_size', tags(undefined, '8'), { minSize: 0, maxSize: 8 }],
    ['zero sizes', tags('0', '0'), { minSize: 0, maxSize: 0 }],
    ['surrounding whitespace', tags(' 2 ', ' 6 '), { minSize: 2, maxSize: 6 }],
  ])('reads %s', (_label, input, expected) => {
    expect(sizeTags(input, ORG)).toStrictEqual(expected);
  });

  it.each([
    ['another org', [{ Key: 'other:min_size', Value: '2' }, { Key: 'other:max_size', Value: '9' }]],
    ['no prefix', [{ Key: 'min_size', Value: '2' }, { Key: 'max_size', Value: '9' }]],
    ['a prefix differing in case', [{ Key: 'ACME:min_size', Value: '2' }, { Key: 'ACME:max_size', Value: '9' }]],
    ['tags without a key', [{ Value: '2' }, { Value: '9' }]],
  ])('ignores tags of %s', (_label, input) => {
    expect(sizeTags(input, ORG)).toStrictEqual({ minSize: 0, maxSize: 4 });
  });

  it.each([
    ['letters', 'lots'],
    ['an empty value', ''],
    ['a blank value', ' '],
    ['a negative number', '-1'],
    ['a fraction', '2.5'],
    ['an exponent', '1e1'],
    ['a hex number', '0x10'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['a number with a unit', '3 instances'],
  ])('falls back to the defaults for %s', (_label, value) => {
    expect(sizeTags(tags(value, value), ORG)).toStrictEqual({ minSize: 0, maxSize: 4 });
  });

  it('falls back for a missing tag value', () => {
    expect(sizeTags([{ Key: `${ORG}:min_size` }, { Key: `${ORG}:max_size` }], ORG)).toStrictEqual({ minSize: 0, maxSize: 4 });
  });

  it.each([
    ['a min above the tagged max', tags('5', '3'), { minSize: 3, maxSize: 3 }],
    ['a min above the default max', tags('9'), { minSize: 4, maxSize: 4 }],
    ['a min above a zero max', tags('1', '0'), { minSize: 0, maxSize: 0 }],
  ])('clamps %s to the max', (_label, input, expected) => {
    expect(sizeTags(input, ORG)).toStrictEqual(expected);
  });
});

describe('Function: deployMinSize', () => {
  it.each([
    // [min, max, production instances, expected]
    [0, 4, 0, 0],
    [0, 4, 2, 2],
    [2, 4, 0, 2],
    [2, 4, 1, 2],
    [2, 4, 3, 3],
    [0, 4, 4, 4],
    [0, 4, 9, 4],
    [3, 3, 10, 3],
    [0, 0, 5, 0],
  ])('starts at min %i / max %i with %i production instances at %i', (minSize, maxSize, production, expected) => {
    // Act
    const size = deployMinSize({ minSize, maxSize }, production);

    // Assess
    expect(size).toBe(expected);
    expect(size).toBe(Math.min(Math.max(production, minSize), maxSize));
  });
});
