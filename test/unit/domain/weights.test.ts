import { describe, expect, it } from 'vitest';
import { percentAtStep, stepCount, weightsAtPercent } from '../../../domain/weights';

const EVERY_PERCENT = Array.from({ length: 100 }, (_, i) => i + 1);

describe('Function: stepCount', () => {
  it.each(EVERY_PERCENT)('takes ceil(100 / %i) steps', (p) => {
    expect(stepCount(p)).toBe(Math.ceil(100 / p));
  });

  it.each([
    [1, 100],
    [3, 34],
    [5, 20],
    [33, 4],
    [34, 3],
    [50, 2],
    [51, 2],
    [100, 1],
  ])('takes %i%% per step in %i steps', (p, steps) => {
    expect(stepCount(p)).toBe(steps);
  });

  it.each([0, -1, 101, 2.5, NaN, Infinity, -Infinity])('rejects %s percent per step with a RangeError', (p) => {
    expect(() => stepCount(p)).toThrow(RangeError);
  });
});

describe('Function: percentAtStep', () => {
  it.each(EVERY_PERCENT)('rises strictly to exactly 100 at %i%% per step', (p) => {
    // Prepare
    const steps = stepCount(p);

    // Act
    const percents = Array.from({ length: steps }, (_, i) => percentAtStep(i + 1, p));

    // Assess
    expect(percents).toHaveLength(steps);
    expect(percents.at(-1)).toBe(100);
    expect(percents[0]).toBe(Math.min(p, 100));
    for (const [i, percent] of percents.entries()) {
      expect(Number.isInteger(percent)).toBe(true);
      expect(percent).toBeLessThanOrEqual(100);
      if (i > 0) expect(percent).toBeGreaterThan(percents[i - 1]!);
    }
  });

  it('shifts 3% per step and finishes with a 1% step', () => {
    expect([1, 2, 33, 34].map((step) => percentAtStep(step, 3))).toStrictEqual([3, 6, 99, 100]);
  });

  it.each([
    ['step 0', 0, 5],
    ['a negative step', -1, 5],
    ['a step past the last', 21, 5],
    ['a fractional step', 1.5, 5],
    ['a NaN step', NaN, 5],
    ['an invalid percent per step', 1, 0],
    ['a fractional percent per step', 1, 7.5],
  ])('rejects %s with a RangeError', (_label, step, p) => {
    expect(() => percentAtStep(step, p)).toThrow(RangeError);
  });
});

describe('Function: weightsAtPercent', () => {
  it.each(Array.from({ length: 101 }, (_, i) => i))('puts %i%% on the new group and the rest on production', (percent) => {
    // Act
    const weights = weightsAtPercent(percent);

    // Assess
    expect(weights).toStrictEqual({ production: 100 - percent, next: percent });
  });

  it.each([
    [-5, 0],
    [-Infinity, 0],
    [150, 100],
    [Infinity, 100],
    [33.4, 33],
    [33.5, 34],
    [99.9, 100],
    [0.4, 0],
  ])('clamps and rounds %s to %i on the new group', (percent, next) => {
    // Act
    const weights = weightsAtPercent(percent);

    // Assess
    expect(weights.next).toBe(next);
    expect(weights.production + weights.next).toBe(100);
    expect(weights.production).toBeGreaterThanOrEqual(0);
  });

  it('rejects NaN with a RangeError instead of sending NaN weights', () => {
    expect(() => weightsAtPercent(NaN)).toThrow(RangeError);
  });
});
