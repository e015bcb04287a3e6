/**
 * A simulated clock for the Scheduler-path section: `Date.now()` and `new Date()` (no arguments)
 * return real time plus an offset that only moves forward. Everything in this process that reads
 * the time — the handlers (due times, `at(...)` expressions), the local runtime's Scheduler clock
 * (is a schedule due?) and the subscriber (when an event arrived) — sees the same simulated time,
 * so a 30-minute wait can be skipped without changing any code under test. Timers (setTimeout),
 * SQS delays (moto) and performance.now() keep real time.
 */
const RealDate = Date;
let offsetMs = 0;
let installed = false;

export function installVirtualClock(): void {
  if (installed) return;
  installed = true;
  class VirtualDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as [number]));
    }

    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  }
  globalThis.Date = VirtualDate as DateConstructor;
}

/** Moves simulated time forward to `epochMs` (never backwards). */
export function advanceTo(epochMs: number): void {
  offsetMs = Math.max(offsetMs, epochMs - RealDate.now());
}

/** How far simulated time is ahead of real time (ms). */
export function clockOffsetMs(): number {
  return offsetMs;
}
