import type { z } from 'zod';
import type { DeployPlanned } from '../events/lifecycle';
import { stripUnprintable } from '../events/text';
import { describeEvent, trafficBar } from '../infra/local/progress';
import type { FollowEvent } from './follow';

/** Where the CLI writes: process.stdout/stderr, or a test's collector. */
export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)}Z`;
const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;
const num = (d: Record<string, unknown>, k: string) => (typeof d[k] === 'number' ? (d[k] as number) : 0);
const VERB: Record<string, string> = { PauseRequested: 'pause', ResumeRequested: 'resume', PromoteRequested: 'promote' };

/**
 * One human line per event: the local runtime's wording (infra/local/progress.ts) for the events
 * it knows, and the rollout controls, capacity holds and read-back weights the CLI shows.
 */
export function describe(e: FollowEvent): string {
  const d = e.detail;
  const reason = typeof d.Reason === 'string' && d.Reason ? `: ${d.Reason}` : '';
  switch (e.detailType) {
    case 'TrafficShifted': {
      const off = weightNote(d);
      return off ? `${describeEvent(e)}; ${off}` : describeEvent(e);
    }
    case 'TrafficShiftHeld':
      return `holding step ${num(d, 'Step')} (${num(d, 'Percent')} %): ${num(d, 'Healthy')}/${num(d, 'Needed')} healthy targets, ${num(d, 'HeldSeconds')} s`;
    case 'RolloutPaused': {
      const by = d.By === 'request' ? ' by request' : '';
      const until = typeof d.RollbackAt === 'string' ? `rolls back at ${clock(Date.parse(d.RollbackAt))} unless resumed or promoted` : 'waits for resume or promote';
      const step = num(d, 'Step') > 0 ? ` (step ${num(d, 'Step')})` : '';
      return `paused at ${num(d, 'Percent')} %${step}${by}: ${String(d.Reason)}; ${until}`;
    }
    case 'RolloutResumed':
      return `resumed after ${num(d, 'PausedSeconds')} s paused${reason}`;
    case 'RolloutPromoted':
      return `promoted at ${num(d, 'FromPercent')} % (was ${String(d.FromPhase)}): the remaining steps and the bake are skipped${typeof d.Reason === 'string' && d.Reason ? ` (${d.Reason})` : ''}`;
    case 'RolloutCommandRejected':
      return `${VERB[String(d.Command)] ?? String(d.Command)} refused: ${(Array.isArray(d.Reasons) ? d.Reasons : []).join('; ')}`;
    case 'DeployPlanned':
      return `dry run planned (${String(d.Rollout)}, ${num(d, 'Steps')} step(s), ${Array.isArray(d.Warnings) ? d.Warnings.length : 0} warning(s)); nothing was changed`;
    case 'BakeCheckDue':
      return `alarms checked during the bake (ends ${typeof d.BakeEndsAt === 'string' ? clock(Date.parse(d.BakeEndsAt)) : '?'})`;
    case 'PauseTimeoutDue':
      return d.Limit === 'MaxPause'
        ? `paused for the installation's maximum pause (${num(d, 'PauseTimeout')} s) without resume or promote`
        : `paused for PauseTimeout (${num(d, 'PauseTimeout')} s) without resume or promote`;
    case 'DeployDeadlinePassed':
      // Re-armed while the rollout stands still: only a RollbackStarted (cause deadline) means it acted.
      return `deadline check (${num(d, 'DeadlineSeconds')} s of running time; time paused or held does not count)`;
    default:
      return describeEvent(e);
  }
}

/** Rule shares (from the read-back) other than the configured percentage, or undefined when the ALB agrees. */
function weightNote(d: Record<string, unknown>): string | undefined {
  if (typeof d.ActualPercent !== 'number' || d.ActualPercent === d.Percent) return undefined;
  const rules = (Array.isArray(d.RuleWeights) ? d.RuleWeights : []) as { RuleArn?: string; NewPercent?: number }[];
  const off = rules.filter((r) => r.NewPercent !== d.Percent).map((r) => `${shortArn(String(r.RuleArn))} ${r.NewPercent} %`);
  return `the ALB reports ${d.ActualPercent} % new (configured ${String(d.Percent)} %)${off.length ? `: ${off.join(', ')}` : ''}`;
}

/** `arn:aws:elasticloadbalancing:r:a:listener-rule/app/lb/1/2/3` → `listener-rule/app/lb/1/2/3`. */
export const shortArn = (arn: string) => arn.replace(/^arn:[^:]+:elasticloadbalancing:[^:]+:[^:]+:/, '');
/** A target group ARN's name. */
export const targetGroupOf = (arn: string) => /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;

/** A paused rollout, as a follower shows it. */
export interface PausedView {
  step: number;
  percent: number;
  by: string;
  reason: string;
  /** Epoch ms. */
  since: number;
  rollbackAt?: number;
}

/** A traffic step waiting for capacity. */
export interface HeldView {
  step: number;
  percent: number;
  healthy?: number;
  needed?: number;
  /** Epoch ms. */
  since: number;
}

/** What a follower knows about one deploy, from its events (and, for watch, the ledger). */
export class DeployView {
  phase = 'Requested';
  healthy?: { healthy: number; wanted: number };
  /** Traffic on the new version; undefined for a non-web deploy. */
  percent?: number;
  /** What the ALB reported after the last step, when it differs from `percent`. */
  actualPercent?: number;
  rollout?: string;
  bakeUntil?: number;
  paused?: PausedView;
  held?: HeldView;
  /** PromoteRequested was applied: no more steps, no bake. */
  promoted = false;
  /** The phase a pause interrupted, and the bake it left (resumed as they were). */
  private pausedFrom?: string;
  private bakeLeftMs?: number;
  /** Ledger position of the last event applied (events sharing it come from one transition). */
  private seq = -1;

  constructor(
    readonly deployId: string,
    /** Seconds of bake, if known (printed as a countdown). */
    public bakeTime?: number,
  ) {}

  /** Applies an event of this deploy. Returns a line to add when something starts (the bake). */
  apply(e: FollowEvent, now = Date.now()): string | undefined {
    const d = e.detail;
    const seq = typeof d.Seq === 'number' ? d.Seq : undefined;
    // A pause and the step that reached PauseAtPercent share a position: the pause is the later state.
    const pausedHere = this.phase === 'Paused' && seq !== undefined && seq <= this.seq;
    if (seq !== undefined) this.seq = Math.max(this.seq, seq);
    switch (e.detailType) {
      case 'AsgCloned':
        this.phase = 'WaitingHealthy';
        this.rollout = String(d.Rollout);
        this.healthy = { healthy: 0, wanted: num(d, 'MinSize') };
        this.percent = this.rollout === 'web' ? 0 : undefined;
        return undefined;
      case 'HealthCheckDue':
        this.healthy = { healthy: num(d, 'Healthy'), wanted: num(d, 'Wanted') };
        return undefined;
      case 'InstancesHealthy':
        this.healthy = { healthy: num(d, 'Healthy'), wanted: num(d, 'Wanted') };
        if (this.rollout === 'web') {
          this.phase = 'Shifting';
          return undefined;
        }
        if (this.rollout === 'first-web') this.percent = 100;
        return this.startBake(now, this.rollout === 'first-web' ? `first deploy: the new rule serves ${trafficBar(100)}` : 'non-web: old and new run side by side');
      case 'TrafficShifted':
        this.percent = num(d, 'Percent');
        this.actualPercent = typeof d.ActualPercent === 'number' && d.ActualPercent !== d.Percent ? d.ActualPercent : undefined;
        this.held = undefined;
        if (pausedHere) return undefined;
        this.phase = 'Shifting';
        return this.percent === 100 ? this.startBake(now) : undefined;
      case 'TrafficShiftHeld': {
        const heldMs = num(d, 'HeldSeconds') * 1000;
        this.held = { step: num(d, 'Step'), percent: num(d, 'Percent'), healthy: num(d, 'Healthy'), needed: num(d, 'Needed'), since: now - heldMs };
        if (!pausedHere && this.phase !== 'Paused') this.phase = 'Shifting';
        return undefined;
      }
      case 'RolloutPaused':
        this.pause(
          {
            step: num(d, 'Step'),
            percent: num(d, 'Percent'),
            by: String(d.By),
            reason: String(d.Reason),
            since: Number.isNaN(Date.parse(e.time)) ? now : Math.min(now, Date.parse(e.time)),
            rollbackAt: typeof d.RollbackAt === 'string' ? Date.parse(d.RollbackAt) : undefined,
          },
          now,
        );
        return undefined;
      case 'RolloutResumed': {
        const from = this.pausedFrom ?? (this.percent === 100 || this.rollout !== 'web' ? 'Baking' : 'Shifting');
        this.phase = from;
        this.paused = undefined;
        this.pausedFrom = undefined;
        if (from === 'Baking' && this.bakeLeftMs !== undefined) {
          this.bakeUntil = now + this.bakeLeftMs;
          this.bakeLeftMs = undefined;
          return `baking ${seconds(this.bakeUntil - now)} more (until ${clock(this.bakeUntil)})`;
        }
        return undefined;
      }
      case 'RolloutPromoted':
        this.promoted = true;
        if (this.phase === 'Paused') this.phase = this.pausedFrom ?? (num(d, 'FromPercent') === 100 ? 'Baking' : 'Shifting');
        this.paused = undefined;
        this.pausedFrom = undefined;
        this.bakeLeftMs = undefined;
        this.bakeUntil = undefined;
        return undefined;
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
        this.paused = undefined;
        this.held = undefined;
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
    const until = this.bakeTime === undefined || this.promoted ? undefined : now + this.bakeTime * 1000;
    this.bakeUntil = until;
    const bake = this.promoted ? 'promoted: no bake' : until === undefined ? 'baking' : `baking ${this.bakeTime} s (until ${clock(until)})`;
    return prefix ? `${prefix}; ${bake}` : bake;
  }

  /** The rollout stands still: remembers what resuming continues with (the phase, the bake left). */
  pause(paused: PausedView, now = Date.now()): void {
    if (this.phase !== 'Paused') this.pausedFrom = ['Shifting', 'Baking'].includes(this.phase) ? this.phase : undefined;
    if (this.phase === 'Baking' && this.bakeUntil !== undefined) this.bakeLeftMs = Math.max(0, this.bakeUntil - now);
    this.phase = 'Paused';
    this.paused = paused;
    this.held = undefined;
    this.bakeUntil = undefined;
    if (this.percent !== undefined || this.rollout === 'web') this.percent = paused.percent;
  }

  /** Where a pause stands: `paused 12 s (by request: why), rollback in 48 s`. */
  pausedStatus(now = Date.now()): string | undefined {
    const p = this.paused;
    if (!p || this.phase !== 'Paused') return undefined;
    const by = p.by === 'request' ? 'by request: ' : '';
    const until = p.rollbackAt !== undefined ? `rollback in ${seconds(p.rollbackAt - now)}` : 'until resumed';
    return `paused ${seconds(now - p.since)} (${by}${p.reason}), ${until}`;
  }

  /** A step waiting for capacity: `holding step 3 (60 %): 2/4 healthy targets, 12 s`. */
  heldStatus(now = Date.now()): string | undefined {
    const h = this.held;
    if (!h || this.phase !== 'Shifting') return undefined;
    const counts = h.healthy !== undefined && h.needed !== undefined ? `${h.healthy}/${h.needed} healthy targets` : 'waiting for healthy targets';
    return `holding step ${h.step} (${h.percent} %): ${counts}, ${seconds(now - h.since)}`;
  }

  /** The TTY status line. */
  status(now = Date.now()): string {
    const parts = [`${this.deployId}  ${this.phase}`];
    if (this.healthy && ['WaitingHealthy', 'Shifting'].includes(this.phase) && !this.held) parts.push(`healthy ${this.healthy.healthy}/${this.healthy.wanted}`);
    if (this.percent !== undefined) parts.push(trafficBar(this.percent) + (this.actualPercent !== undefined ? ` (ALB: ${this.actualPercent}%)` : ''));
    const held = this.heldStatus(now);
    if (held) parts.push(held);
    const paused = this.pausedStatus(now);
    if (paused) parts.push(paused);
    if (this.bakeUntil !== undefined && this.phase === 'Baking') parts.push(`bake ${Math.max(0, Math.ceil((this.bakeUntil - now) / 1000))} s left`);
    return parts.join('  ');
  }
}

/** Events that only move the status (on a TTY they print no line of their own). */
const STATUS_ONLY = new Set(['HealthCheckDue', 'TrafficShiftDue', 'BakeCheckDue']);
const CLEAR_LINE = '\r\x1b[2K';
/**
 * Timers that may still fire after the deploy moved on (a rollback began, a pause or a promote
 * moved its ledger position); Deployomat drops them as stale, and so do we.
 */
const FORWARD_TIMERS = new Set(['HealthCheckDue', 'TrafficShiftDue', 'BakeElapsed', 'BakeCheckDue', 'PauseTimeoutDue']);

/**
 * Prints what a follower sees. Plain (no TTY, e.g. CI): one line per event,
 * `[+  4.2s] Phase          what happened`. TTY: the same lines, under a status line that is
 * redrawn in place (phase, healthy x/y, traffic bar, bake countdown).
 */
export class Renderer {
  private readonly started = Date.now();
  private statusShown = false;
  private readonly rolledBack = new Set<unknown>();
  /** Per deploy, the furthest ledger position seen: a timer for an earlier one is stale. */
  private readonly positions = new Map<unknown, number>();

  constructor(
    private readonly out: Output,
    readonly view?: DeployView,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  /** A log line. */
  line(text: string): void {
    const elapsed = ((Date.now() - this.started) / 1000).toFixed(1).padStart(5);
    const phase = this.view ? `${this.view.phase.padEnd(14)} ` : '';
    // Event text is someone else's: nothing in it may move the cursor or reorder the line (see println).
    this.write(`[+${elapsed}s] ${phase}${stripUnprintable(text)}\n`);
  }

  /** An event on the service: of the followed deploy (moves the view) or of another one. */
  event(e: FollowEvent): void {
    const deployId = e.detail.DeployId;
    const seq = typeof e.detail.Seq === 'number' ? e.detail.Seq : undefined;
    const furthest = this.positions.get(deployId) ?? -1;
    if (e.detailType === 'RollbackStarted') this.rolledBack.add(deployId);
    if (FORWARD_TIMERS.has(e.detailType) && (this.rolledBack.has(deployId) || (seq !== undefined && seq < furthest))) return;
    if (seq !== undefined && seq > furthest) this.positions.set(deployId, seq);
    const mine = !this.view || deployId === undefined || deployId === this.view.deployId;
    const note = mine ? this.view?.apply(e) : undefined;
    if (!(this.tty && STATUS_ONLY.has(e.detailType))) {
      this.line(mine ? describe(e) : `(deploy ${String(deployId)}) ${describe(e)}`);
    }
    if (note) this.line(note);
    this.tick();
  }

  /** Redraws the status line (TTY only); called about once a second for the countdown. */
  tick(): void {
    if (!this.tty || !this.view) return;
    this.out.write(`${CLEAR_LINE}${stripUnprintable(this.view.status())}`);
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

export type Plan = z.output<typeof DeployPlanned>;

const ROLLOUT: Record<Plan['Rollout'], (steps: number) => string> = {
  web: (steps) => `blue/green: traffic moves to the new group in ${steps} step(s), then the bake`,
  'first-web': () => 'first deploy: the new rule serves 100 % once healthy, then the bake',
  'non-web': () => 'not a web service: old and new run side by side through the bake',
};

/** A dry run's answer (DeployPlanned), laid out for reading: what a deploy started now would do. */
export function renderPlan(p: Plan): string[] {
  const row = (name: string, value: string) => `  ${name.padEnd(16)} ${value}`;
  const more = (value: string) => `  ${''.padEnd(16)} ${value}`;
  const list = (name: string, values: string[], none: string) => (values.length ? values.map((v, i) => (i ? more(v) : row(name, v))) : [row(name, none)]);
  const lt = p.LaunchTemplate;
  const lines = [
    `dry run ${p.DeployId}: ${p.ServiceName} in ${p.AccountCanonicalSlug} (${p.Environment}); nothing was changed. A deploy started now would:`,
    row('AMI', p.ResolvedAmiId === p.AmiId ? p.AmiId : `${p.ResolvedAmiId} (requested ${p.AmiId})`),
    row('launch template', `${lt.LaunchTemplateId}: ${lt.Action === 'create' ? 'create a new version with the AMI' : `reuse version ${lt.Version ?? '?'}`}`),
    row('new ASG', `${p.AsgName} (min ${p.MinSize}, max ${p.MaxSize})`),
    ...list('target groups', p.TargetGroups.map((t) => `${t.Name} (clone of ${targetGroupOf(t.Template)})`), 'none (not a web service)'),
    ...list(
      'rules',
      p.Rules.map((r) =>
        r.Action === 'shift'
          ? `shift rule ${r.Priority} on ${shortArn(r.ListenerArn)} from ${r.ProductionTargetGroupArn ? targetGroupOf(r.ProductionTargetGroupArn) : 'production'} to the new group`
          : `create rule ${r.Priority} on ${shortArn(r.ListenerArn)} from the exemplar ${shortArn(r.ExemplarRuleArn)}`,
      ),
      'none',
    ),
    row('rollout', ROLLOUT[p.Rollout](p.Steps)),
    row(
      'production',
      p.ProductionAsgName
        ? `${p.ProductionAsgName}: replaced (deleted after the bake)${p.ProductionMinSizeDuringDeploy !== undefined ? `; its min size is held at ${p.ProductionMinSizeDuringDeploy} meanwhile` : ''}`
        : 'none (first deploy)',
    ),
    ...(p.ProductionTargetGroupArns.length ? [more(`with target group(s) ${p.ProductionTargetGroupArns.map(targetGroupOf).join(', ')}`)] : []),
    ...list('rollback alarms', p.RollbackAlarms.map((a) => `${a.Name}: ${a.State}`), 'none'),
    row('undeploy', p.AllowUndeploy ? 'allowed afterwards' : 'not allowed afterwards'),
  ];
  if (p.Warnings.length) lines.push('warnings:', ...p.Warnings.map((w) => `  - ${w}`));
  return lines;
}
