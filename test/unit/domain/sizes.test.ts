import { describe, expect, it } from 'vitest';
import { deployMinSize, productionHoldSize, restoredMinSize, serviceSizes, sizeTags } from '../../../domain/sizes';

const ORG = 'acme';
const tags = (min?: string, max?: string) => [
  ...(min === undefined ? [] : [{ Key: `${ORG}:min_size`, Value: min }]),
  ...(max === undefined ? [] : [{ Key: `${ORG}:max_size`, Value: max }]),
];

describe('Function: sizeTags', () => {
  it('has no min and max 4 without tags', () => {
    expect(sizeTags(undefined, ORG)).toStrictEqual({ maxSize: 4 });
    expect(sizeTags([], ORG)).toStrictEqual({ maxSize: 4 });
  });

  it('reads both tags under the org prefix', () => {
    expect(sizeTags(tags('2', '10'), ORG)).toStrictEqual({ minSize: 2, maxSize: 10 });
  });

  it.each([
    ['only min_size', tags('3'), { minSize: 3, maxSize: 4 }],
    ['only max_size', tags(undefined, '8'), { maxSize: 8 }],
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
    expect(sizeTags(input, ORG)).toStrictEqual({ maxSize: 4 });
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
  ])('reads no min and the default max from %s', (_label, value) => {
    expect(sizeTags(tags(value, value), ORG)).toStrictEqual({ maxSize: 4 });
  });

  it('reads no min and the default max from a missing tag value', () => {
    expect(sizeTags([{ Key: `${ORG}:min_size` }, { Key: `${ORG}:max_size` }], ORG)).toStrictEqual({ maxSize: 4 });
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

describe('Function: serviceSizes', () => {
  it.each([
    // [label, template tags, template min size, expected]
    ['the min_size tag over the template min', tags('3', '6'), 1, { minSize: 3, maxSize: 6 }],
    ['a min_size tag of 0 over the template min', tags('0'), 2, { minSize: 0, maxSize: 4 }],
    ['the template min without the tag', tags(undefined, '6'), 2, { minSize: 2, maxSize: 6 }],
    ['the template min without any tag', [], 2, { minSize: 2, maxSize: 4 }],
    ['the template min with an invalid tag', tags('lots'), 2, { minSize: 2, maxSize: 4 }],
    ['the template min clamped to the max', tags(undefined, '3'), 5, { minSize: 3, maxSize: 3 }],
    ['0 without a tag or a template min', [], undefined, { minSize: 0, maxSize: 4 }],
  ] as const)('keeps %s', (_label, templateTags, templateMin, expected) => {
    expect(serviceSizes({ Tags: [...templateTags], MinSize: templateMin }, ORG)).toStrictEqual(expected);
  });
});

describe('Function: productionHoldSize', () => {
  it.each([
    // [service min, service max, in service, production min before the hold, production max, expected]
    [2, 4, 3, 2, 4, 3],
    [2, 4, 1, 2, 4, 2],
    [2, 4, 6, 2, 5, 5],
    [2, 4, 6, 2, undefined, 4],
    // Never below production's own min: an instance being replaced does not lower it.
    [0, 4, 1, 3, 4, 3],
    [0, 4, 0, undefined, 4, 0],
  ])('holds production (service min %i max %i, %i in service, own min %s, own max %s) at %i', (minSize, maxSize, inService, minSizeBeforeHold, productionMax, expected) => {
    expect(productionHoldSize({ minSize, maxSize }, { inService, minSizeBeforeHold, maxSize: productionMax })).toBe(expected);
  });
});

describe('Function: restoredMinSize', () => {
  it('restores the min_size tag when production has one, whatever it was before the hold', () => {
    expect(restoredMinSize(sizeTags(tags('2'), ORG), 5)).toBe(2);
    expect(restoredMinSize(sizeTags(tags('0'), ORG), 5)).toBe(0);
  });

  it('restores the min size production had before the hold without the tag', () => {
    expect(restoredMinSize(sizeTags(tags(undefined, '6'), ORG), 3)).toBe(3);
    expect(restoredMinSize(sizeTags([], ORG), 0)).toBe(0);
  });

  it('leaves production alone without the tag when no hold was recorded', () => {
    expect(restoredMinSize(sizeTags([], ORG), undefined)).toBeUndefined();
  });
});
