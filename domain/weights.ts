/**
 * Traffic weights are always absolute (production/new always sum to 100), so applying a step
 * twice is harmless and a late duplicate never over-shifts.
 */
export function stepCount(percentPerStep: number): number {
  if (!Number.isInteger(percentPerStep) || percentPerStep < 1 || percentPerStep > 100) {
    throw new RangeError(`percent per step must be an integer in 1..100, got ${percentPerStep}`);
  }
  return Math.ceil(100 / percentPerStep);
}

/** Share of traffic on the new target group after `step` (1-based); the last step is exactly 100. */
export function percentAtStep(step: number, percentPerStep: number): number {
  const steps = stepCount(percentPerStep);
  if (!Number.isInteger(step) || step < 1 || step > steps) {
    throw new RangeError(`step must be an integer in 1..${steps}, got ${step}`);
  }
  return step === steps ? 100 : step * percentPerStep;
}

export function weightsAtPercent(percent: number): { production: number; next: number } {
  if (Number.isNaN(percent)) throw new RangeError('percent must be a number, got NaN');
  const next = Math.min(100, Math.max(0, Math.round(percent)));
  return { production: 100 - next, next };
}
