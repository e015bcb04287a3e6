import { z } from 'zod';
import { PROGRESS_DETAIL_TYPE } from '../../events/progress';
import type { NotifyEvent } from './events';

/**
 * What a Slack message shows about one deploy or undeploy: a view folded from its events, pure.
 * Events may arrive late, twice or out of order (SQS); the fold is written for that:
 * - an event is applied once (`applied` holds its step key, see {@link stepKey});
 * - the phase only moves forward (by the deploy's ledger position `Seq`), and an outcome
 *   (completed, failed, cancelled, rejected) is final;
 * - facts (AMI, group names, counts) are merged whenever they arrive.
 */

export const DeployPhase = z.enum([
  'Requested',
  'WaitingHealthy',
  'Shifting',
  'Baking',
  'Paused',
  'RollingBack',
  'Completed',
  'Failed',
  'Cancelled',
  'Rejected',
]);
export type DeployPhase = z.output<typeof DeployPhase>;

export const UndeployPhase = z.enum(['Requested', 'Completed', 'Failed', 'Rejected']);
export type UndeployPhase = z.output<typeof UndeployPhase>;

const FINAL: readonly string[] = ['Completed', 'Failed', 'Cancelled', 'Rejected'];
export const isFinal = (phase: string) => FINAL.includes(phase);

const common = {
  id: z.string(),
  account: z.string(),
  service: z.string(),
  /** Earliest and latest event times seen (ISO 8601): the elapsed time while running. */
  startedAt: z.string().optional(),
  lastAt: z.string().optional(),
  /** As reported by the final event, when it reports one. */
  durationSeconds: z.number().optional(),
  /** Failure or rejection reasons. */
  reasons: z.array(z.string()).optional(),
  /** Step keys of the events folded in (a redelivered event changes nothing). */
  applied: z.array(z.string()),
};

export const DeployView = z.object({
  kind: z.literal('deploy'),
  ...common,
  /** DeployConfig.SkipNotifications: only a failure or a rollback is posted. */
  skip: z.boolean(),
  phase: DeployPhase,
  /** Ledger position (`Seq`) of the event that set the phase; -1 before any. */
  seq: z.number(),
  /** As requested (may be an AMI command such as `$name-prefix:app-`). */
  amiId: z.string().optional(),
  /** The AMI actually deployed. */
  resolvedAmiId: z.string().optional(),
  asgName: z.string().optional(),
  previousAsgName: z.string().optional(),
  rollout: z.enum(['web', 'first-web', 'non-web']).optional(),
  healthy: z.number().optional(),
  wanted: z.number().optional(),
  /** Share of traffic on the new version. */
  percent: z.number().optional(),
  /** The share the load balancer reported after the last step, when it differs from `percent`. */
  actualPercent: z.number().optional(),
  step: z.number().optional(),
  steps: z.number().optional(),
  /** While the rollout stands still (RolloutPaused): where, why, and until when (RollbackAt, ISO). */
  paused: z.object({ step: z.number(), percent: z.number(), by: z.string(), reason: z.string(), rollbackAt: z.string().optional() }).optional(),
  /** A traffic step waiting for capacity (TrafficShiftHeld). */
  held: z.object({ step: z.number(), percent: z.number(), healthy: z.number(), needed: z.number(), heldSeconds: z.number() }).optional(),
  /** PromoteRequested was applied: the remaining steps and the bake are skipped. */
  promoted: z.object({ fromPhase: z.string(), fromPercent: z.number(), reason: z.string().optional() }).optional(),
  rollback: z.object({ cause: z.string(), reason: z.string(), fromPhase: z.string() }).optional(),
  /** The phase a failed or cancelled deploy was in. */
  endedInPhase: z.string().optional(),
  /** A rollback step gave up (RollbackFailed): the service needs an operator. */
  rollbackErrors: z.array(z.string()).optional(),
});
export type DeployView = z.output<typeof DeployView>;

export const UndeployView = z.object({
  kind: z.literal('undeploy'),
  ...common,
  skip: z.literal(false),
  phase: UndeployPhase,
  asgName: z.string().optional(),
  deletedTargetGroups: z.number().optional(),
  deletedRules: z.number().optional(),
});
export type UndeployView = z.output<typeof UndeployView>;

export const View = z.discriminatedUnion('kind', [DeployView, UndeployView]);
export type View = z.output<typeof View>;

/** Whom an event is about: a deploy's or an undeploy's conversation, or a stand-alone notice. */
export type Subject =
  | { kind: 'deploy' | 'undeploy'; id: string; account: string; service: string }
  /** Nothing to attach it to (e.g. a cancel with nothing to cancel, a request too broken to name its service). */
  | { kind: 'notice'; id: string };

/** The subject of an event the notifier handles; undefined for an event it does not. */
export function subjectOf(e: NotifyEvent): Subject | undefined {
  const notice = { kind: 'notice', id: e.id } as const;
  switch (e.type) {
    case 'DeployRequested': {
      const d = e.detail;
      // A dry run changes nothing and opens no conversation: its answer (DeployPlanned) is one notice.
      if (d.DeployConfig.DryRun) return undefined;
      return { kind: 'deploy', id: d.DeployId ?? e.id, account: d.AccountCanonicalSlug, service: d.ServiceName };
    }
    case 'AsgCloned':
    case 'InstancesHealthy':
    case 'TrafficShifted':
    case 'TrafficShiftHeld':
    case 'RolloutPaused':
    case 'RolloutResumed':
    case 'RolloutPromoted':
    case 'RollbackStarted':
    case 'TrafficRestored':
    case 'DeployCompleted':
    case 'DeployFailed':
    case 'DeployCancelled':
    case 'RollbackFailed': {
      const d = e.detail;
      return { kind: 'deploy', id: d.DeployId, account: d.AccountCanonicalSlug, service: d.ServiceName };
    }
    case 'DeployRejected': {
      const d = e.detail;
      // A dry run turned away by the limit: its requester hears it; a flood of them must not flood the channel.
      if (d.DryRun && d.RetryAt) return undefined;
      // A rejected dry run opened no message (its request posts nothing): a notice of its own.
      return d.AccountCanonicalSlug && d.ServiceName && !d.DryRun
        ? { kind: 'deploy', id: d.DeployId ?? e.id, account: d.AccountCanonicalSlug, service: d.ServiceName }
        : notice;
    }
    case 'UndeployRequested':
      // The undeploy's id is the id of the event that requested it (domain/steps/undeploy.ts).
      return { kind: 'undeploy', id: e.id, account: e.detail.AccountCanonicalSlug, service: e.detail.ServiceName };
    case 'UndeployCompleted':
    case 'UndeployFailed':
      return { kind: 'undeploy', id: e.detail.UndeployId, account: e.detail.AccountCanonicalSlug, service: e.detail.ServiceName };
    case 'UndeployRejected': {
      const d = e.detail;
      return d.AccountCanonicalSlug && d.ServiceName
        ? { kind: 'undeploy', id: d.UndeployId ?? e.id, account: d.AccountCanonicalSlug, service: d.ServiceName }
        : notice;
    }
    case PROGRESS_DETAIL_TYPE: {
      // Someone else's lines for the deploy's thread: never a message of their own (notify.ts).
      const d = e.detail;
      return { kind: 'deploy', id: d.DeployId, account: d.AccountCanonicalSlug, service: d.ServiceName };
    }
    case 'CancelRejected':
    case 'RolloutCommandRejected':
    case 'DeployPlanned':
      return notice;
    default:
      return undefined;
  }
}

/**
 * The identity of a step within its deploy: the same for a redelivery of the event and for a
 * re-publication of it by the outbox (a new event id, the same deploy position), so neither
 * changes the view twice nor posts a second thread reply.
 */
export function stepKey(e: NotifyEvent): string {
  // A progress update is no step of the deploy: each one published is its own (a redelivery keeps its id).
  if (e.type === PROGRESS_DETAIL_TYPE) return `${e.type}#${e.id}`;
  const seq = (e.detail as { Seq?: unknown }).Seq;
  return typeof seq === 'number' ? `${e.type}#${seq}` : e.type;
}

/**
 * The thread reply an event posts, by the same kind of key: a step held for capacity is retried
 * (a new position each time) but gets one reply per step; the message shows how long it has held.
 */
export function replyStepOf(e: NotifyEvent): string {
  return e.type === 'TrafficShiftHeld' ? `${e.type}#step${e.detail.Step}` : stepKey(e);
}

/** The request events open the conversation (the message itself); every other step gets a thread reply. */
export const opensConversation = (e: NotifyEvent) => e.type === 'DeployRequested' || e.type === 'UndeployRequested';

export function initialView(subject: Extract<Subject, { kind: 'deploy' | 'undeploy' }>, skip = false): View {
  const base = { id: subject.id, account: subject.account, service: subject.service, applied: [] };
  return subject.kind === 'deploy'
    ? { kind: 'deploy', ...base, skip, phase: 'Requested', seq: -1 }
    : { kind: 'undeploy', ...base, skip: false, phase: 'Requested' };
}

/** Folds `e` into `view`. Returns `view` itself when the event was already applied. */
export function applyEvent(view: View, e: NotifyEvent): View {
  const key = stepKey(e);
  if (view.applied.includes(key)) return view;
  const times = {
    startedAt: !view.startedAt || e.time < view.startedAt ? e.time : view.startedAt,
    lastAt: !view.lastAt || e.time > view.lastAt ? e.time : view.lastAt,
    applied: [...view.applied, key],
  };
  return view.kind === 'deploy' ? { ...applyDeploy(view, e), ...times } : { ...applyUndeploy(view, e), ...times };
}

function applyDeploy(v: DeployView, e: NotifyEvent): DeployView {
  /** Moves the phase forward, unless the deploy already ended or a later step already moved it. */
  const progress = (seq: number, phase: DeployPhase, facts: Partial<DeployView> = {}): DeployView =>
    isFinal(v.phase) || seq < v.seq ? { ...v, ...facts } : { ...v, ...facts, phase, seq };
  const end = (phase: DeployPhase, facts: Partial<DeployView>): DeployView => (isFinal(v.phase) ? v : { ...v, ...facts, phase });
  switch (e.type) {
    case 'DeployRequested':
      return { ...v, amiId: e.detail.AmiId, skip: e.detail.DeployConfig.SkipNotifications };
    case 'AsgCloned': {
      const d = e.detail;
      return progress(d.Seq, 'WaitingHealthy', {
        resolvedAmiId: d.AmiId,
        asgName: d.AsgName,
        previousAsgName: d.ProductionAsgName,
        rollout: d.Rollout,
        wanted: v.wanted ?? d.MinSize,
      });
    }
    case 'InstancesHealthy': {
      const d = e.detail;
      const web = v.rollout === 'web' || v.rollout === undefined;
      const facts = { healthy: d.Healthy, wanted: d.Wanted, ...(v.rollout === 'first-web' ? { percent: 100 } : {}) };
      return progress(d.Seq, web ? 'Shifting' : 'Baking', facts);
    }
    case 'TrafficShifted': {
      const d = e.detail;
      const facts = {
        percent: d.Percent,
        actualPercent: d.ActualPercent !== d.Percent ? d.ActualPercent : undefined,
        step: d.Step,
        steps: d.Steps,
        held: undefined,
      };
      // A shift overtaken by a later one keeps the later percentage; a pause made by the same
      // transition (PauseAtPercent: the same Seq) is the state it ended in.
      if (d.Seq < v.seq) return v;
      if (d.Seq === v.seq && v.phase === 'Paused') return { ...v, ...facts };
      return progress(d.Seq, d.Percent >= 100 ? 'Baking' : 'Shifting', facts);
    }
    case 'TrafficShiftHeld': {
      const d = e.detail;
      if (d.Seq < v.seq) return v;
      return progress(d.Seq, 'Shifting', { held: { step: d.Step, percent: d.Percent, healthy: d.Healthy, needed: d.Needed, heldSeconds: d.HeldSeconds } });
    }
    case 'RolloutPaused': {
      const d = e.detail;
      if (d.Seq < v.seq) return v;
      const paused = { step: d.Step, percent: d.Percent, by: d.By, reason: d.Reason, rollbackAt: d.RollbackAt };
      return progress(d.Seq, 'Paused', { paused, held: undefined, ...(v.rollout === 'non-web' ? {} : { percent: d.Percent }) });
    }
    case 'RolloutResumed': {
      const d = e.detail;
      if (d.Seq < v.seq) return v;
      return progress(d.Seq, resumedPhase(v), { paused: undefined });
    }
    case 'RolloutPromoted': {
      const d = e.detail;
      if (d.Seq < v.seq) return v;
      const promoted = { fromPhase: d.FromPhase, fromPercent: d.FromPercent, reason: d.Reason };
      return progress(d.Seq, d.FromPercent >= 100 || v.rollout === 'non-web' ? 'Baking' : 'Shifting', { promoted, paused: undefined, held: undefined });
    }
    case 'RollbackStarted': {
      const d = e.detail;
      return progress(d.Seq, 'RollingBack', { rollback: { cause: d.Cause, reason: d.Reason, fromPhase: d.FromPhase }, paused: undefined, held: undefined });
    }
    case 'TrafficRestored': {
      const d = e.detail;
      const restored = d.Seq < v.seq || isFinal(v.phase) ? {} : { percent: v.rollout === 'web' ? 0 : undefined };
      return progress(d.Seq, 'RollingBack', restored);
    }
    case 'RollbackFailed':
      return { ...v, rollbackErrors: e.detail.Errors };
    case 'DeployCompleted': {
      const d = e.detail;
      return end('Completed', {
        resolvedAmiId: d.AmiId,
        asgName: d.AsgName,
        previousAsgName: d.PreviousAsgName ?? v.previousAsgName,
        durationSeconds: d.DurationSeconds,
        percent: v.rollout === 'non-web' ? v.percent : 100,
        seq: d.Seq,
        rollbackErrors: undefined,
      });
    }
    case 'DeployFailed':
      return end('Failed', { endedInPhase: e.detail.Phase, reasons: e.detail.Errors, seq: e.detail.Seq });
    case 'DeployCancelled': {
      const d = e.detail;
      return end('Cancelled', {
        endedInPhase: d.FromPhase,
        rollback: { cause: v.rollback?.cause ?? 'cancel', reason: d.Reason, fromPhase: d.FromPhase },
        durationSeconds: d.DurationSeconds,
        seq: d.Seq,
        rollbackErrors: undefined,
      });
    }
    case 'DeployRejected':
      return end('Rejected', { reasons: e.detail.Reasons, amiId: v.amiId ?? e.detail.AmiId });
    default:
      return v;
  }
}

/** The phase a resumed rollout goes back to: the bake if the pause came at 100 % (or for a rollout without steps). */
function resumedPhase(v: DeployView): DeployPhase {
  const percent = v.paused?.percent ?? v.percent ?? 0;
  return percent >= 100 || v.rollout === 'non-web' || v.rollout === 'first-web' ? 'Baking' : 'Shifting';
}

function applyUndeploy(v: UndeployView, e: NotifyEvent): UndeployView {
  if (isFinal(v.phase)) return v;
  switch (e.type) {
    case 'UndeployCompleted': {
      const d = e.detail;
      return {
        ...v,
        phase: 'Completed',
        asgName: d.AsgName,
        deletedTargetGroups: d.DeletedTargetGroupArns.length,
        deletedRules: d.DeletedRuleArns.length,
        durationSeconds: d.DurationSeconds,
      };
    }
    case 'UndeployRejected':
      return { ...v, phase: 'Rejected', reasons: e.detail.Reasons };
    case 'UndeployFailed':
      return { ...v, phase: 'Failed', reasons: e.detail.Errors };
    default:
      return v;
  }
}

/** A failure is posted even with SkipNotifications: a failed or rejected deploy, or a rollback that gave up. */
export function isFailure(view: View): boolean {
  if (view.phase === 'Failed' || view.phase === 'Rejected') return true;
  return view.kind === 'deploy' && !!view.rollbackErrors?.length && view.phase !== 'Completed' && view.phase !== 'Cancelled';
}

/**
 * Whether the conversation is shown at all. SkipNotifications hides a deploy that goes well, never
 * one that fails or is cancelled (by a cancel or a newer deploy): people must hear that production
 * traffic moved back.
 */
export const isVisible = (view: View) => !view.skip || isFailure(view) || isCancellation(view);

/** A cancel (or a newer deploy) rolling this one back, or having done so. A failure's rollback is told by its failure. */
const isCancellation = (view: View) =>
  view.phase === 'Cancelled' || (view.kind === 'deploy' && (view.rollback?.cause === 'cancel' || view.rollback?.cause === 'superseded'));

/** Seconds from the first to the last event seen, or the duration the final event reported. */
export function elapsedSeconds(view: View): number | undefined {
  if (view.durationSeconds !== undefined) return Math.round(view.durationSeconds);
  if (!view.startedAt || !view.lastAt) return undefined;
  return Math.max(0, Math.round((Date.parse(view.lastAt) - Date.parse(view.startedAt)) / 1000));
}
