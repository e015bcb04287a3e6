import { describeEvent, trafficBar } from '../infra/local/progress';
import type { FollowEvent } from './follow';

/** Where the CLI writes: process.stdout/stderr, or a test's collector. */
export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** What a follower knows about one deploy, from its events (and, for watch, the ledger). */
export class DeployView {
  phase = 'Requested';
  healthy?: { healthy: number; wanted: number };
  /** Traffic on the new version; undefined for a non-web deploy. */
  percent?: number;
  rollout?: string;
  bakeUntil?: number;

  constructor(
    readonly deployId: string,
    /** Seconds of bake, if known (printed as a countdown). */
    public bakeTime?: number,
  ) {}

  /** Applies an event of this deploy. Returns a line to add when something starts (the bake). */
  apply(e: FollowEvent, now = Date.now()): string | undefined {
    const d = e.detail;
    const num = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : 0);
    switch (e.detailType) {
      case 'AsgCloned':
        this.phase = 'WaitingHealthy';
        this.rollout = String(d.Rollout);
        this.healthy = { healthy: 0, wanted: num('MinSize') };
        this.percent = this.rollout === 'web' ? 0 : undefined;
        return undefined;
      case 'HealthCheckDue':
        this.healthy = { healthy: num('Healthy'), wanted: num('Wanted') };
        return undefined;
      case 'InstancesHealthy':
        this.healthy = { healthy: num('Healthy'), wanted: num('Wanted') };
        if (this.rollout === 'web') {
          this.phase = 'Shifting';
          return undefined;
        }
        if (this.rollout === 'first-web') this.percent = 100;
        return this.startBake(now, this.rollout === 'first-web' ? `first deploy: the new rule serves ${trafficBar(100)}` : 'non-web: old and new run side by side');
      case 'TrafficShifted':
        this.percent = num('Percent');
        this.phase = 'Shifting';
        return this.percent === 100 ? this.startBake(now) : undefined;
      case 'BakeElapsed':
        this.phase = 'Finishing';
        this.bakeUntil = undefined;
        return undefined;
      case 'DeployCompleted':
        this.phase = 'Completed';
        return undefined;
      case 'RollbackStarted':
        this.phase = 'RollingBack';
        this.bakeUntil = undefined;
        return undefined;
      case 'TrafficRestored':
        if (this.percent !== undefined) this.percent = 0;
        return undefined;
      case 'DeployFailed':
        this.phase = 'Failed';
        return undefined;
      case 'DeployCancelled':
        this.phase = 'Cancelled';
        return undefined;
      case 'DeployRejected':
        this.phase = 'Rejected';
        return undefined;
      case 'RollbackFailed':
        this.phase = 'RollbackStuck';
        return undefined;
      default:
        return undefined;
    }
  }

  startBake(now: number, prefix?: string): string {
    this.phase = 'Baking';
    const until = this.bakeTime === undefined ? undefined : now + this.bakeTime * 1000;
    this.bakeUntil = until;
    const bake = until === undefined ? 'baking' : `baking ${this.bakeTime} s (until ${new Date(until).toISOString().slice(11, 19)}Z)`;
    return prefix ? `${prefix}; ${bake}` : bake;
  }

  /** The TTY status line. */
  status(now = Date.now()): string {
    const parts = [`${this.deployId}  ${this.phase}`];
    if (this.healthy && ['WaitingHealthy', 'Shifting'].includes(this.phase)) parts.push(`healthy ${this.healthy.healthy}/${this.healthy.wanted}`);
    if (this.percent !== undefined) parts.push(trafficBar(this.percent));
    if (this.bakeUntil !== undefined && this.phase === 'Baking') parts.push(`bake ${Math.max(0, Math.ceil((this.bakeUntil - now) / 1000))} s left`);
    return parts.join('  ');
  }
}

/** Events that only move the status (on a TTY they print no line of their own). */
const STATUS_ONLY = new Set(['HealthCheckDue', 'TrafficShiftDue']);
const CLEAR_LINE = '\r\x1b[2K';
/** Timers that may still fire after a rollback began; Deployomat drops them as stale, and so do we. */
const FORWARD_TIMERS = new Set(['HealthCheckDue', 'TrafficShiftDue', 'BakeElapsed']);

/**
 * Prints what a follower sees. Plain (no TTY, e.g. CI): one line per event,
 * `[+  4.2s] Phase          what happened`. TTY: the same lines, under a status line that is
 * redrawn in place (phase, healthy x/y, traffic bar, bake countdown).
 */
export class Renderer {
  private readonly started = Date.now();
  private statusShown = false;
  private readonly rolledBack = new Set<unknown>();

  constructor(
    private readonly out: Output,
    readonly view?: DeployView,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  /** A log line. */
  line(text: string): void {
    const elapsed = ((Date.now() - this.started) / 1000).toFixed(1).padStart(5);
    const phase = this.view ? `${this.view.phase.padEnd(14)} ` : '';
    this.write(`[+${elapsed}s] ${phase}${text}\n`);
  }

  /** An event on the service: of the followed deploy (moves the view) or of another one. */
  event(e: FollowEvent): void {
    const deployId = e.detail.DeployId;
    if (e.detailType === 'RollbackStarted') this.rolledBack.add(deployId);
    if (FORWARD_TIMERS.has(e.detailType) && this.rolledBack.has(deployId)) return;
    const mine = !this.view || deployId === undefined || deployId === this.view.deployId;
    const note = mine ? this.view?.apply(e) : undefined;
    if (!(this.tty && STATUS_ONLY.has(e.detailType))) {
      this.line(mine ? describeEvent(e) : `(deploy ${String(deployId)}) ${describeEvent(e)}`);
    }
    if (note) this.line(note);
    this.tick();
  }

  /** Redraws the status line (TTY only); called about once a second for the countdown. */
  tick(): void {
    if (!this.tty || !this.view) return;
    this.out.write(`${CLEAR_LINE}${this.view.status()}`);
    this.statusShown = true;
  }

  /** Leaves the terminal clean (no half-drawn status line). */
  close(): void {
    if (this.statusShown) this.out.write(CLEAR_LINE);
    this.statusShown = false;
  }

  private write(text: string): void {
    if (this.statusShown) this.out.write(CLEAR_LINE);
    this.out.write(text);
    this.statusShown = false;
  }
}
