import type { Detail } from '../../events/catalog';
import { PROGRESS_DETAIL_TYPE } from '../../events/progress';
import type { NotifyEvent } from './events';
import { elapsedSeconds, isFinal, type DeployView, type UndeployView, type View } from './view';

/**
 * What the Slack messages say, as pure functions of a view or an event. `text` carries the whole
 * message (Slack shows it in notifications and where blocks cannot be shown); the blocks lay the
 * same content out.
 */

/** The Block Kit subset used here (structurally Slack's `SectionBlock` / `ContextBlock`). */
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}
export type Block =
  | { type: 'section'; text: MrkdwnText }
  | { type: 'section'; fields: MrkdwnText[] }
  | { type: 'context'; elements: MrkdwnText[] };

export interface Rendered {
  text: string;
  blocks: Block[];
}

/** What the messages link to. */
export interface RenderOptions {
  /**
   * The region of the AWS console links: the notifier's own, as Deployomat deploys in its region.
   * Without it (or with a value that is no region name), AMIs are shown as plain ids.
   */
  region?: string;
}

/**
 * The AMI, linked to its page in the EC2 console (as the original's messages did). The console
 * opens it in whichever account you are signed in to: the workload account's, or the one it was
 * built and shared from.
 */
function amiLink(id: string, opts: RenderOptions): string {
  const region = opts.region;
  if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) || !/^ami-[0-9a-f]{8,17}$/.test(id)) return code(id);
  return `<https://${region}.console.aws.amazon.com/ec2/home?region=${region}#ImageDetails:imageId=${id}|${id}>`;
}
/** The AMI deployed, and the command it was resolved from when it was one (`$name-prefix:…`). */
const amiFact = (resolved: string, requested: string | undefined, opts: RenderOptions) =>
  requested && requested !== resolved ? `${amiLink(resolved, opts)} (${code(requested)})` : amiLink(resolved, opts);

/** Slack's control characters in user-supplied text (reasons, names). */
export const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (s: string) => `\`${escape(s)}\``;
const bold = (s: string) => `*${escape(s)}*`;
const mrkdwn = (text: string): MrkdwnText => ({ type: 'mrkdwn', text });
/** Block Kit caps a section's text at 3000 characters. */
const cap = (s: string, max = 2900) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}

/** `▰▰▰▰▰▱▱▱▱▱ 50 %`: traffic on the new version. */
export function trafficBar(percent: number): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const filled = Math.round(p / 10);
  return `${'▰'.repeat(filled)}${'▱'.repeat(10 - filled)} ${p} %`;
}

const PHASE_WORDS: Record<string, string> = {
  Starting: 'starting',
  WaitingHealthy: 'waiting for healthy instances',
  Shifting: 'shifting traffic',
  Baking: 'baking',
  Paused: 'paused',
  RollingBack: 'rolling back',
};
/** `12:34:56 UTC` of an ISO time. */
const clock = (iso: string) => (Number.isNaN(Date.parse(iso)) ? iso : `${new Date(iso).toISOString().slice(11, 19)} UTC`);
const COMMAND_WORDS: Record<string, string> = { PauseRequested: 'Pause', ResumeRequested: 'Resume', PromoteRequested: 'Promote' };
/** The name in a target group ARN (`…:targetgroup/<name>/<id>`). */
const targetGroupOf = (arn: string) => /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
const shortArn = (arn: string) => arn.replace(/^arn:[^:]+:elasticloadbalancing:[^:]+:[^:]+:/, '');
/** `Holding step 3 (60 %): 2/4 healthy targets, 12 s`. */
const holding = (h: { step: number; percent: number; healthy: number; needed: number; heldSeconds: number }) =>
  `Holding step ${h.step} (${h.percent} %): ${h.healthy}/${h.needed} healthy targets${h.heldSeconds > 0 ? `, ${formatDuration(h.heldSeconds)}` : ''}`;
const rollsBack = (at: string | undefined) => (at ? `rolls back at ${clock(at)} unless resumed or promoted` : 'waits for resume or promote');
const phaseWords = (phase: string | undefined) => (phase ? (PHASE_WORDS[phase] ?? phase) : 'unknown phase');
const bullets = (items: readonly string[]) => items.map((r) => `• ${escape(r)}`).join('\n');
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The one message of a deploy or undeploy, as it stands. */
export function renderMessage(view: View, opts: RenderOptions = {}): Rendered {
  return view.kind === 'deploy' ? renderDeploy(view, opts) : renderUndeploy(view);
}

function deployHeadline(v: DeployView): string {
  const on = `${bold(v.service)} to ${bold(v.account)}`;
  switch (v.phase) {
    case 'Completed':
      return `✅ Deployed ${on}`;
    case 'Failed':
      return `❌ Deploy of ${on} failed`;
    case 'Cancelled':
      return `🛑 Deploy of ${on} cancelled`;
    case 'Rejected':
      return `⛔ Deploy of ${on} rejected`;
    case 'RollingBack':
      return v.rollbackErrors?.length ? `🚨 Rollback of ${on} needs attention` : `↩️ Rolling back the deploy of ${on}`;
    case 'Paused':
      return `⏸️ Deploy of ${on} paused`;
    default:
      return `🚀 Deploying ${on}`;
  }
}

function deployStatus(v: DeployView): string {
  const elapsed = elapsedSeconds(v);
  switch (v.phase) {
    case 'Requested':
      return 'Starting';
    case 'WaitingHealthy':
      return v.wanted !== undefined ? `Waiting for ${plural(v.wanted, 'instance')} to become healthy` : 'Waiting for healthy instances';
    case 'Shifting':
      if (v.held) return holding(v.held);
      if (v.promoted) return `Promoted at ${v.promoted.fromPercent} %: moving to 100 % without further steps or bake`;
      return v.percent !== undefined && v.step !== undefined && v.steps !== undefined
        ? `Shifting traffic: ${v.percent} % on the new version (step ${v.step}/${v.steps})`
        : `Instances healthy${v.healthy !== undefined ? ` (${v.healthy}/${v.wanted ?? v.healthy})` : ''}, shifting traffic`;
    case 'Baking':
      if (v.promoted) return 'Promoted: finishing without the bake';
      return v.rollout === 'non-web' ? 'Baking: old and new versions side by side' : 'Baking: 100 % on the new version';
    case 'Paused': {
      const p = v.paused;
      return p ? `Paused at ${p.percent} % — ${escape(p.reason)}; ${rollsBack(p.rollbackAt)}` : 'Paused';
    }
    case 'RollingBack': {
      const why = v.rollback ? ` (${escape(v.rollback.cause)}): ${escape(v.rollback.reason)}` : '';
      return `Rolling back from ${phaseWords(v.rollback?.fromPhase)}${why}`;
    }
    case 'Completed':
      return `Completed${elapsed !== undefined ? ` in ${formatDuration(elapsed)}` : ''}${v.previousAsgName ? `; previous version ${code(v.previousAsgName)} removed` : ''}`;
    case 'Failed':
      return `Failed while ${phaseWords(v.endedInPhase)}; rolled back${elapsed !== undefined ? ` after ${formatDuration(elapsed)}` : ''}`;
    case 'Cancelled':
      return `Cancelled while ${phaseWords(v.endedInPhase)}: ${escape(v.rollback?.reason ?? 'no reason given')}; rolled back${elapsed !== undefined ? ` after ${formatDuration(elapsed)}` : ''}`;
    case 'Rejected':
      return 'Nothing was changed';
  }
}

function deployFacts(v: DeployView, opts: RenderOptions): [string, string][] {
  const facts: [string, string][] = [];
  if (v.resolvedAmiId) facts.push(['AMI', amiFact(v.resolvedAmiId, v.amiId, opts)]);
  else if (v.amiId) facts.push(['AMI', amiLink(v.amiId, opts)]);
  if (v.percent !== undefined && v.rollout !== 'non-web') {
    const actual = v.actualPercent !== undefined && !isFinal(v.phase) ? ` (load balancer: ${v.actualPercent} %)` : '';
    facts.push(['Traffic on new', `${trafficBar(v.percent)}${actual}`]);
  }
  else if (v.rollout === 'non-web' && v.phase !== 'Rejected') facts.push(['Traffic', 'not a web service']);
  const elapsed = v.phase === 'Rejected' ? undefined : elapsedSeconds(v);
  if (elapsed !== undefined) facts.push([isFinal(v.phase) ? 'Duration' : 'Elapsed', formatDuration(elapsed)]);
  if (v.asgName) facts.push(['New group', code(v.asgName)]);
  return facts;
}

function renderDeploy(v: DeployView, opts: RenderOptions): Rendered {
  const headline = deployHeadline(v);
  const status = deployStatus(v);
  const facts = deployFacts(v, opts);
  const sections: string[] = [];
  if (v.reasons?.length) sections.push(bullets(v.reasons));
  if (v.rollbackErrors?.length && !isFinal(v.phase)) {
    sections.push(`Rollback failed; publish CancelRequested to retry it:\n${bullets(v.rollbackErrors)}`);
  }
  const context = `Deploy ${code(v.id)}`;
  return assemble(headline, status, facts, sections, context);
}

function renderUndeploy(v: UndeployView): Rendered {
  const on = `${bold(v.service)} from ${bold(v.account)}`;
  const elapsed = elapsedSeconds(v);
  let headline: string;
  let status: string;
  switch (v.phase) {
    case 'Requested':
      headline = `🧹 Undeploying ${on}`;
      status = 'Removing the service';
      break;
    case 'Completed':
      headline = `✅ Undeployed ${on}`;
      status = `Removed ${v.asgName ? code(v.asgName) : 'the production group'}, ${plural(v.deletedTargetGroups ?? 0, 'target group')} and ${plural(v.deletedRules ?? 0, 'listener rule')}${elapsed !== undefined ? ` in ${formatDuration(elapsed)}` : ''}`;
      break;
    case 'Failed':
      headline = `❌ Undeploy of ${on} failed`;
      status = 'Publish UndeployRequested again to retry';
      break;
    case 'Rejected':
      headline = `⛔ Undeploy of ${on} rejected`;
      status = 'Nothing was changed';
      break;
  }
  const facts: [string, string][] = elapsed !== undefined ? [[isFinal(v.phase) ? 'Duration' : 'Elapsed', formatDuration(elapsed)]] : [];
  return assemble(headline, status, facts, v.reasons?.length ? [bullets(v.reasons)] : [], `Undeploy ${code(v.id)}`);
}

function assemble(headline: string, status: string, facts: [string, string][], sections: string[], context: string): Rendered {
  const factText = facts.map(([k, val]) => `*${k}:* ${val}`);
  const text = [headline, status, ...(factText.length ? [factText.join(' · ')] : []), ...sections].join('\n');
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(cap(`${headline}\n${status}`)) }];
  if (factText.length) blocks.push({ type: 'section', fields: factText.map((f) => mrkdwn(cap(f, 1900))) });
  for (const s of sections) blocks.push({ type: 'section', text: mrkdwn(cap(s)) });
  blocks.push({ type: 'context', elements: [mrkdwn(context)] });
  return { text: cap(text, 3900), blocks };
}

/** The thread reply for one step, or undefined for an event that has none (the requests). */
export function renderStep(e: NotifyEvent): string | undefined {
  switch (e.type) {
    case 'AsgCloned': {
      const d = e.detail;
      return `Cloned ${code(d.AsgName)} (min ${d.MinSize}, max ${d.MaxSize}) with AMI ${code(d.AmiId)}, launch template version ${d.LaunchTemplate.Version}`;
    }
    case 'InstancesHealthy': {
      const d = e.detail;
      return `${d.Healthy}/${d.Wanted} instances healthy after ${formatDuration(d.WaitedSeconds)}`;
    }
    case 'TrafficShifted': {
      const d = e.detail;
      const actual = d.ActualPercent !== d.Percent ? `; the load balancer reports ${d.ActualPercent} %` : '';
      return `Traffic shifted: ${d.Percent} % on the new version (step ${d.Step}/${d.Steps})${actual}`;
    }
    case 'TrafficShiftHeld': {
      const d = e.detail;
      return holding({ step: d.Step, percent: d.Percent, healthy: d.Healthy, needed: d.Needed, heldSeconds: d.HeldSeconds });
    }
    case 'RolloutPaused': {
      const d = e.detail;
      const by = d.By === 'request' ? ' by request' : '';
      return `⏸️ Paused at ${d.Percent} %${d.Step > 0 ? ` (step ${d.Step})` : ''}${by}: ${escape(d.Reason)}; ${rollsBack(d.RollbackAt)}`;
    }
    case 'RolloutResumed': {
      const d = e.detail;
      return `▶️ Resumed after ${formatDuration(d.PausedSeconds)} paused${d.Reason ? `: ${escape(d.Reason)}` : ''}`;
    }
    case 'RolloutPromoted': {
      const d = e.detail;
      return `⏭️ Promoted at ${d.FromPercent} % (was ${phaseWords(d.FromPhase)})${d.Reason ? `: ${escape(d.Reason)}` : ''}; the remaining steps and the bake are skipped`;
    }
    case 'RollbackStarted': {
      const d = e.detail;
      return `Rolling back from ${phaseWords(d.FromPhase)} (${escape(d.Cause)}): ${escape(d.Reason)}`;
    }
    case 'TrafficRestored': {
      const d = e.detail;
      const what = d.RestoredRuleArns.length
        ? `Traffic restored: 100 % on the previous version (${plural(d.RestoredRuleArns.length, 'rule')})`
        : d.DeletedRuleArns.length
          ? `Live ${d.DeletedRuleArns.length === 1 ? 'rule' : 'rules'} of the first deploy removed`
          : 'No traffic to restore';
      return `${what}; draining ${formatDuration(d.DrainSeconds)} before removing the new group`;
    }
    case 'DeployCompleted':
      return `✅ Completed in ${formatDuration(e.detail.DurationSeconds)}`;
    case 'DeployFailed':
      return `❌ Failed while ${phaseWords(e.detail.Phase)}: ${escape(e.detail.Errors.join('; '))}`;
    case 'DeployCancelled':
      return `🛑 Cancelled after ${formatDuration(e.detail.DurationSeconds)}: ${escape(e.detail.Reason)}`;
    case 'RollbackFailed':
      return `🚨 Rollback failed: ${escape(e.detail.Errors.join('; '))}. Publish CancelRequested to retry it.`;
    case 'DeployRejected':
      return `⛔ Rejected: ${escape(e.detail.Reasons.join('; '))}`;
    case 'UndeployCompleted':
      return `✅ Undeployed in ${formatDuration(e.detail.DurationSeconds)}`;
    case 'UndeployFailed':
      return `❌ Failed: ${escape(e.detail.Errors.join('; '))}`;
    case 'UndeployRejected':
      return `⛔ Rejected: ${escape(e.detail.Reasons.join('; '))}`;
    case PROGRESS_DETAIL_TYPE:
      return `📣 ${e.detail.Updates.map(escape).join('\n')}`;
    default:
      return undefined;
  }
}

/** A stand-alone message for an event with no deploy to attach to (a rejected cancel, a nameless request). */
export function renderNotice(e: NotifyEvent, opts: RenderOptions = {}): Rendered | undefined {
  const where = (d: { AccountCanonicalSlug?: string; ServiceName?: string }) =>
    d.ServiceName ? ` of ${bold(d.ServiceName)}${d.AccountCanonicalSlug ? ` on ${bold(d.AccountCanonicalSlug)}` : ''}` : '';
  let headline: string;
  let reasons: string[];
  switch (e.type) {
    case 'CancelRejected':
      headline = `⛔ Cancel${where(e.detail)} rejected`;
      reasons = e.detail.Reasons;
      break;
    case 'RolloutCommandRejected':
      headline = `⛔ ${COMMAND_WORDS[e.detail.Command] ?? e.detail.Command}${where(e.detail)} rejected`;
      reasons = e.detail.Reasons;
      break;
    case 'DeployPlanned':
      return renderPlan(e.detail, opts);
    case 'DeployRejected':
      headline = `⛔ ${e.detail.DryRun ? 'Dry run of a deploy' : 'Deploy request'}${where(e.detail)} rejected`;
      reasons = e.detail.Reasons;
      break;
    case 'UndeployRejected':
      headline = `⛔ Undeploy request${where(e.detail)} rejected`;
      reasons = e.detail.Reasons;
      break;
    default:
      return undefined;
  }
  return assemble(headline, 'Nothing was changed', [], [bullets(reasons)], `Event ${code(e.id)}`);
}

/** A dry run's plan (DeployPlanned): one message, no thread — nothing was changed. */
function renderPlan(p: Detail<'DeployPlanned'>, opts: RenderOptions): Rendered {
  const headline = `📝 Dry run: deploy of ${bold(p.ServiceName)} to ${bold(p.AccountCanonicalSlug)}`;
  const status = 'Nothing was changed; a deploy started now would do this';
  const ami = amiFact(p.ResolvedAmiId, p.AmiId, opts);
  const lt = p.LaunchTemplate;
  const rollout = { web: `blue/green in ${plural(p.Steps, 'step')}`, 'first-web': 'first deploy: 100 % once healthy', 'non-web': 'not a web service: side by side' }[p.Rollout];
  const facts: [string, string][] = [
    ['AMI', ami],
    ['Launch template', `${code(lt.LaunchTemplateId)}: ${lt.Action === 'create' ? 'new version' : `reuse version ${lt.Version ?? '?'}`}`],
    ['New group', `${code(p.AsgName)} (min ${p.MinSize}, max ${p.MaxSize})`],
    ['Rollout', rollout],
    [
      'Replaces',
      p.ProductionAsgName
        ? `${code(p.ProductionAsgName)}${p.ProductionMinSizeDuringDeploy !== undefined ? ` (min size held at ${p.ProductionMinSizeDuringDeploy})` : ''}`
        : 'nothing (first deploy)',
    ],
    ['Alarms', p.RollbackAlarms.length ? p.RollbackAlarms.map((a) => `${code(a.Name)} ${escape(a.State)}`).join(', ') : 'none'],
  ];
  const sections: string[] = [];
  if (p.TargetGroups.length) sections.push(`*Target groups:*\n${p.TargetGroups.map((t) => `• ${code(t.Name)} (clone of ${code(targetGroupOf(t.Template))})`).join('\n')}`);
  if (p.Rules.length) {
    const rule = (r: Detail<'DeployPlanned'>['Rules'][number]) =>
      r.Action === 'shift'
        ? `• shift rule ${r.Priority} on ${code(shortArn(r.ListenerArn))} from ${code(targetGroupOf(r.ProductionTargetGroupArn ?? 'production'))}`
        : `• create rule ${r.Priority} on ${code(shortArn(r.ListenerArn))} from its exemplar`;
    sections.push(`*Rules:*\n${p.Rules.map(rule).join('\n')}`);
  }
  if (p.Warnings.length) sections.push(`⚠️ *Warnings:*\n${bullets(p.Warnings)}`);
  return assemble(headline, status, facts, sections, `Dry run ${code(p.DeployId)}`);
}
