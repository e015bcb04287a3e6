import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { parseAmiCommand } from '../../events/ami-command';
import { parseDeployRequested, type DeployRequested } from '../../events/client';
import type { EventEnvelope } from '../../events/envelope';
import { QueuedDeployReady } from '../../events/lifecycle';
import { publish } from '../../events/publish';
import { assumeRole, ssmClient, workloadClients, workloadCredentials, type WorkloadClients } from '../aws/clients';
import { iamClient, instanceProfileName, instanceProfileRoles } from '../aws/instance-roles';
import { listenerArns, resolveAccount, type Account } from '../aws/accounts';
import { cloneAsg, describeAsg, inServiceCount, originalDeployGroups, productionCapacity, setMinSize } from '../aws/auto-scaling';
import { importCommand } from '../original';
import { amiFromParameter, assertImageAllowed, newestImageByPrefix } from '../aws/images';
import { createImageVersion, describeLaunchSource, resolveExistingVersion } from '../aws/launch-template';
import { elbTagsOf } from '../aws/elb-tags';
import { foreignLiveRules, forwardTargets, listListenerRules, planRules, prepareRules, type ListedRules } from '../aws/listener-rules';
import { deployTags, OWNER_TAG, ownerOf, tagQuotaProblem, tagValue } from '../aws/tags';
import { launchOwnershipProblems } from '../ownership';
import { cloneTargetGroup } from '../aws/target-groups';
import { interrupt, runStep, refOf, type Guard, type StepContext, type StepOutcome } from '../advance';
import { DeployFailure, RejectedError, SupersededError } from '../errors';
import { describeAlarmStates, type AlarmState } from '../aws/alarms';
import { planDeploy } from './plan-deploy';
import { isActiveDeploy, isFinished, recordedProduction, wasReleased, type DeployPlan, type DeployRequest, type ProductionRecord, type ServiceKey, type ServiceState } from '../ledger';
import { echoFields } from './echo';
import { supersedeWaiting } from './waiting';
import { asgName, MAX_TARGET_GROUPS, nextDeployTimestamp, targetGroupName, templateAsgName } from '../naming';
import { deployMinSize, productionHoldSize, serviceSizes } from '../sizes';
import { stepCount } from '../weights';
import { deadlineTimer } from '../deadline';
import { decideDryRun, dryRunWindow } from '../dry-run';
import { pauseTimeoutProblems } from '../pause';

/** Everything a deploy needs to know before it changes anything; resolving it only reads. */
export interface Resolved {
  account: Account;
  workload: WorkloadClients;
  template: AutoScalingGroup;
  launchTemplateId: string;
  listeners: string[];
  /** The AMI to deploy, and the launch template version to reuse for `$launchtemplate:`. */
  amiId: string;
  existingVersion?: number;
  /** The launch template version a new version is made from (the `$Latest` that was checked). */
  sourceVersion: number;
  allowUndeploy: boolean;
  /** The RollbackAlarms as they stand now. */
  alarms: AlarmState[];
  /** The listeners' rules as the ownership check read them (web deploys): the plan reuses them. */
  rules?: ListedRules;
}

/**
 * DeployRequested → validate everything (DeployRejected, with every reason, before any change),
 * take the service, clone the template ASG and its target group, prepare the listener rules
 * → AsgCloned.
 */
export async function startDeploy(ctx: StepContext, envelope: EventEnvelope): Promise<void> {
  // A deploy queued behind a rollback arrives again as QueuedDeployReady, carrying its request.
  const queued = envelope['detail-type'] === 'QueuedDeployReady';
  if (queued && !QueuedDeployReady.safeParse(envelope.detail).success) {
    ctx.log.error('Dropping a QueuedDeployReady that does not match its schema');
    return;
  }
  const parsed = parseDeployRequested(queued ? (envelope.detail as { Request?: unknown }).Request : envelope.detail);
  if (!parsed.ok) {
    await reject(ctx, envelope, parsed.reasons);
    return;
  }
  const input = parsed.value;
  const deployId = input.DeployId ?? envelope.id;
  const key: ServiceKey = { AccountCanonicalSlug: input.AccountCanonicalSlug, ServiceName: input.ServiceName };
  ctx.log.appendKeys({ deployId, account: key.AccountCanonicalSlug, serviceName: key.ServiceName });

  const state = await ctx.ledger.getService(key);
  if (queued && !wasReleased(state, 'deploy', deployId, (envelope.detail as { Request?: unknown }).Request)) {
    // Only the rollback that queued it publishes QueuedDeployReady, with the request the ledger kept.
    ctx.log.error('Dropping a QueuedDeployReady the ledger did not release (not this id, or not this request)', { released: state?.Released?.map((r) => r.Id) });
    return;
  }
  if (state?.ActiveDeployId === deployId) {
    // Redelivered after taking the service: resolve again (read-only) and carry on where it stopped.
    return await runStep(ctx, { ...key, DeployId: deployId, Seq: 0 }, async (s, guard) =>
      cloneService(ctx, s, await resolve(ctx, input, deployId, s.Request.Production), guard),
    );
  }
  const dryRun = input.DeployConfig.DryRun;
  if (!dryRun && (await ctx.ledger.getDeployment(key, deployId))) {
    ctx.log.info('Dropping DeployRequested: this deploy already ran');
    return;
  }
  // What the installation allows, before anything is read in the workload account.
  const overLimits = pauseTimeoutProblems(input.DeployConfig, ctx.cfg.maxPauseSeconds);
  if (overLimits.length) return reject(ctx, envelope, overLimits, deployId, { dryRun: dryRun || undefined });
  if (dryRun) return planOnly(ctx, envelope, input, deployId, state);
  let resolved: Resolved;
  try {
    resolved = await resolve(ctx, input, deployId, recordedProduction(state));
  } catch (err) {
    if (err instanceof RejectedError) return reject(ctx, envelope, err.reasons, deployId);
    throw err;
  }
  const requestFor = (current: ServiceState | undefined): DeployRequest => ({
    DeployId: deployId,
    AmiId: input.AmiId,
    Config: input.DeployConfig,
    StartedAt: new Date().toISOString(),
    Timestamp: nextDeployTimestamp(new Date(), current?.Request.Timestamp),
    RoleArn: resolved.account.roleArn,
    Org: resolved.account.org,
    ListenerArns: resolved.listeners,
    RequestedBy: input.RequestedBy,
    // What a finish will delete: production as recorded now (take() checks it is still production).
    Production: recordedProduction(current),
  });
  let current = state;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const request = requestFor(current);
    if (await ctx.ledger.take(key, request, envelope.id, current?.ProductionAsgName ?? '')) {
      // The rules read by resolve are still what the plan needs only if nothing ran in between: a
      // deploy that finished (attempt > 1) changed them; so may a twin (below), which re-reads.
      const fresh = attempt === 1 ? resolved : { ...resolved, rules: undefined };
      return await runStep(ctx, { ...key, DeployId: deployId, Seq: 0 }, (s, guard) => cloneService(ctx, s, fresh, guard));
    }
    const holder = await ctx.ledger.getService(key);
    if (!holder) continue;
    if (holder.ActiveDeployId === deployId) {
      // A twin delivery took it a moment ago; the ledger lets only one of us act.
      return await runStep(ctx, { ...key, DeployId: deployId, Seq: 0 }, (s, guard) => cloneService(ctx, s, { ...resolved, rules: undefined }, guard));
    }
    current = holder;
    if (isFinished(holder.Phase)) continue; // it finished in between: try again
    if (await onConcurrentDeploy(ctx, key, request, input, holder)) return;
  }
  throw new Error(`Could not take ${key.ServiceName} in ${key.AccountCanonicalSlug}: its ledger kept changing`);
}

/** The account of a role ARN (`arn:aws:iam::<account>:role/...`). */
const accountIdOf = (roleArn: string) => roleArn.split(':')[4] ?? '';

/**
 * Reads everything the deploy needs and checks it may go ahead; `production` is the service's
 * production as the ledger recorded it (its target groups are the service's own).
 */
export async function resolve(ctx: StepContext, input: DeployRequested, deployId: string, production: ProductionRecord | undefined): Promise<Resolved> {
  const metaCredentials = ctx.cfg.metaRoleArn
    ? await assumeRole({
        roleArn: ctx.cfg.metaRoleArn,
        sessionName: deployId,
        externalId: ctx.cfg.roleExternalId,
        tags: ctx.cfg.environment ? { Environment: ctx.cfg.environment } : undefined,
      })
    : undefined;
  const ssm = ssmClient(metaCredentials);
  const account = await resolveAccount(ssm, input.AccountCanonicalSlug, ctx.cfg.serviceName);
  const listeners = await listenerArns(ssm, account, input.ServiceName);

  const reasons: string[] = [];
  const allowUndeploy = input.DeployConfig.AllowUndeploy ?? account.environment !== 'production';
  if (input.DeployConfig.AutomaticUndeployMinutes !== undefined && !allowUndeploy) {
    reasons.push(
      `DeployConfig.AutomaticUndeployMinutes needs undeploys to be allowed; ${account.slug} is a ${account.environment} account, so set DeployConfig.AllowUndeploy to true`,
    );
  }
  const credentials = await workloadCredentials(account.roleArn, deployId, input, ctx.cfg.roleExternalId);
  const workload = workloadClients(credentials);
  const template = await describeAsg(workload.autoscaling, templateAsgName(input.ServiceName));
  if (!template) reasons.push(`Could not load ${templateAsgName(input.ServiceName)}. Is ServiceName correct?`);
  const launchTemplateId = template?.LaunchTemplate?.LaunchTemplateId;
  if (template && !launchTemplateId) reasons.push(`${templateAsgName(input.ServiceName)} must use a launch template`);
  if ((template?.TargetGroupARNs?.length ?? 0) > MAX_TARGET_GROUPS) {
    reasons.push(`${templateAsgName(input.ServiceName)} has ${template?.TargetGroupARNs?.length} target groups; at most ${MAX_TARGET_GROUPS} are supported`);
  }
  if (listeners.length && !template?.TargetGroupARNs?.length && template) {
    reasons.push(`${input.ServiceName} has listener_arns but ${templateAsgName(input.ServiceName)} has no target group to clone`);
  }
  // AWS refuses a copy over its tag quota: a template at the quota would fail every deploy.
  const ours = deployTags(ctx.cfg.serviceName, deployId, ownerOf(input));
  const asgTags = template && tagQuotaProblem(templateAsgName(input.ServiceName), template.Tags, ours);
  if (asgTags) reasons.push(asgTags);
  const templateGroups = (template?.TargetGroupARNs ?? []).slice(0, MAX_TARGET_GROUPS);
  if (templateGroups.length) {
    const tags = await elbTagsOf(workload.elb, templateGroups);
    for (const arn of templateGroups) {
      const tooMany = tagQuotaProblem(`Target group ${arn}`, tags.get(arn), ours);
      if (tooMany) reasons.push(tooMany);
    }
  }
  const alarmNames = input.DeployConfig.RollbackAlarms ?? [];
  const { alarms, missing } = alarmNames.length ? await describeAlarmStates(workload.cloudwatch, alarmNames) : { alarms: [], missing: [] };
  for (const name of missing) reasons.push(`DeployConfig.RollbackAlarms: there is no CloudWatch alarm "${name}" in ${account.slug}`);
  if (reasons.length || !template || !launchTemplateId) throw new RejectedError(reasons);

  const command = parseAmiCommand(input.AmiId);
  if (!command.ok) throw new RejectedError([command.reason]); // unreachable: the schema checked it
  let amiId: string;
  let existingVersion: number | undefined;
  switch (command.command.kind) {
    case 'ami':
      await assertImageAllowed(workload.ec2, command.command.amiId, ctx.cfg.amiOwners, accountIdOf(account.roleArn));
      amiId = command.command.amiId;
      break;
    case 'ssm-parameter':
      amiId = await amiFromParameter(ssmClient(credentials), command.command.parameter);
      await assertImageAllowed(workload.ec2, amiId, ctx.cfg.amiOwners, accountIdOf(account.roleArn));
      break;
    case 'name-prefix':
      amiId = await newestImageByPrefix(workload.ec2, command.command.prefix, ctx.cfg.amiOwners);
      break;
    case 'launch-template': {
      const v = await resolveExistingVersion(workload.ec2, launchTemplateId, command.command.version);
      // The version's AMI is held to the same owners: a version someone wrote by hand is no way around them.
      await assertImageAllowed(workload.ec2, v.amiId, ctx.cfg.amiOwners, accountIdOf(account.roleArn));
      amiId = v.amiId;
      existingVersion = v.version;
      break;
    }
  }
  const source = await describeLaunchSource(workload.ec2, launchTemplateId, existingVersion === undefined ? '$Latest' : String(existingVersion));
  const servicePath = `/${account.org}/service-role/`;
  const profileName = source.instanceProfile ? instanceProfileName(source.instanceProfile) : undefined;
  const problems = launchOwnershipProblems({
    owner: ownerOf(input),
    org: account.org,
    workloadAccountId: accountIdOf(account.roleArn),
    templateAsgName: templateAsgName(input.ServiceName),
    serviceLinkedRoleArn: template.ServiceLinkedRoleARN,
    launchTemplate: { id: launchTemplateId, ownerTag: tagValue(source.tags, OWNER_TAG) },
    instanceProfile: profileName ? await instanceProfileRoles(iamClient(credentials), profileName, servicePath) : undefined,
    requireOwnerTags: ctx.cfg.requireOwnerTags,
  });
  let rules: ListedRules | undefined;
  if (listeners.length && template.TargetGroupARNs?.length) rules = await listListenerRules(workload.elb, listeners);
  if (!production) {
    // Nothing recorded here: a service the original Deployomat still runs must be imported first,
    // or this deploy would run beside it and leave its group serving (or idle) for ever.
    const original = await originalDeployGroups(workload.autoscaling, input.ServiceName, ctx.cfg.serviceName);
    if (original.length) throw new RejectedError([originalStillDeployed(input, original, rules)]);
  }
  if (rules) {
    // A live rule at this service's priority that is another's would be re-weighted: its traffic taken.
    problems.push(
      ...(await foreignLiveRules(workload.elb, {
        listed: rules,
        templateTargetGroupArns: template.TargetGroupARNs ?? [],
        owner: ownerOf(input),
        productionTargetGroupArns: production?.TargetGroupArns ?? [],
      })),
    );
  }
  if (problems.length) throw new RejectedError(problems);
  return { account, workload, template, launchTemplateId, listeners, amiId, existingVersion, sourceVersion: source.version, allowUndeploy, alarms, rules };
}

/** Why a deploy of a service the original Deployomat still runs is rejected, and what to do. */
function originalStillDeployed(key: DeployRequested, groups: AutoScalingGroup[], rules: ListedRules | undefined): string {
  const names = groups.map((g) => g.AutoScalingGroupName!);
  const groupArns = new Set(groups.flatMap((g) => g.TargetGroupARNs ?? []));
  const live = [...(rules?.values() ?? [])].flat().filter((r) => !r.IsDefault && r.Actions?.some((a) => forwardTargets(a).some((t) => groupArns.has(t.arn))));
  const serving = live.length ? `; live rule ${live.map((r) => `${r.RuleArn} (priority ${r.Priority})`).join(', ')} forwards to it` : '';
  return (
    `${key.ServiceName} in ${key.AccountCanonicalSlug} is still deployed by the original Deployomat: Auto Scaling group ${names.join(', ')}${serving}. ` +
    `A deploy now would run beside it and leave it behind: hand the service over first with \`${importCommand(key)}\` (docs/MIGRATING.md), then deploy again. Nothing was changed.`
  );
}

/** Seq 0 → 1: create (or adopt) every resource of the deploy, then wait for health. */
async function cloneService(ctx: StepContext, state: ServiceState, r: Resolved, guard: Guard): Promise<StepOutcome> {
  const { Request: request } = state;
  const key = { AccountCanonicalSlug: state.AccountCanonicalSlug, ServiceName: state.ServiceName };
  const tags = deployTags(ctx.cfg.serviceName, request.DeployId, ownerOf(key));
  const { ec2, autoscaling, elb } = r.workload;

  const launchTemplateVersion =
    r.existingVersion ?? (await createImageVersion(ec2, { launchTemplateId: r.launchTemplateId, amiId: r.amiId, deployId: request.DeployId, sourceVersion: r.sourceVersion }));

  // A service without listeners is non-web: its template's target groups (if any) are not cloned.
  const templateTargetGroups = r.listeners.length ? (r.template.TargetGroupARNs ?? []) : [];
  const targetGroups: { Template: string; Arn: string; Production?: string }[] = [];
  for (const [index, templateArn] of templateTargetGroups.entries()) {
    await guard();
    const arn = await cloneTargetGroup(elb, {
      templateArn,
      name: targetGroupName(state.ServiceName, request.Timestamp, index),
      deployId: request.DeployId,
      tags,
    });
    targetGroups.push({ Template: templateArn, Arn: arn });
  }

  const production = state.ProductionAsgName ? await describeAsg(autoscaling, state.ProductionAsgName) : undefined;
  // Deleted at the finish: production's target groups as recorded, not whatever is attached to it now.
  const recorded = state.Request.Production?.AsgName === state.ProductionAsgName ? state.Request.Production : undefined;
  if (production && !recorded) {
    ctx.log.warn('The ledger does not record production\'s target groups (a rollback before 0.2): the finish will leave them', { production: state.ProductionAsgName });
  }
  const sizes = serviceSizes(r.template, r.account.org);
  const minSize = deployMinSize(sizes, productionCapacity(production));
  const name = asgName(state.ServiceName, request.Timestamp);
  await guard();
  await cloneAsg(autoscaling, {
    template: r.template,
    name,
    deployId: request.DeployId,
    launchTemplateId: r.launchTemplateId,
    launchTemplateVersion,
    targetGroupArns: targetGroups.map((t) => t.Arn),
    minSize,
    maxSize: sizes.maxSize,
    tags,
  });

  if (production?.AutoScalingGroupName) {
    // Recorded before the hold, so a redelivery that finds production held still knows what to restore.
    const hold = await ctx.ledger.recordProductionHold(
      { ...key, DeployId: request.DeployId, Seq: state.Seq },
      { AsgName: production.AutoScalingGroupName, MinSizeBefore: production.MinSize ?? 0 },
    );
    if (!hold) throw new SupersededError({ ...key, DeployId: request.DeployId, Seq: state.Seq });
    const held = productionHoldSize(sizes, { inService: inServiceCount(production), minSizeBeforeHold: hold.MinSizeBefore, maxSize: production.MaxSize });
    await setMinSize(autoscaling, production.AutoScalingGroupName, held);
  }

  await guard();
  const cloneOf = new Map(targetGroups.map((t) => [t.Template, t.Arn]));
  const changes = targetGroups.length
    ? await planRules(elb, {
        listenerArns: r.listeners,
        templateTargetGroupArns: templateTargetGroups,
        deploy: { deployId: request.DeployId, newTargetGroupArns: targetGroups.map((t) => t.Arn) },
        // Read moments ago in this invocation, by the ownership check; nothing here changes rules before the plan.
        listed: r.rules,
      })
    : [];
  const rules = await prepareRules(elb, { changes, newTargetGroupOf: (arn) => cloneOf.get(arn)!, tags });
  for (const group of targetGroups) {
    group.Production = rules.find((x) => x.newTargetGroupArn === group.Arn && x.productionTargetGroupArn)?.productionTargetGroupArn;
  }
  const rollout = !targetGroups.length ? 'non-web' : rules.some((x) => x.productionTargetGroupArn) ? 'web' : 'first-web';

  const plan: DeployPlan = {
    RoleArn: r.account.roleArn,
    Org: r.account.org,
    AllowUndeploy: r.allowUndeploy,
    ResolvedAmiId: r.amiId,
    LaunchTemplateId: r.launchTemplateId,
    LaunchTemplateVersion: launchTemplateVersion,
    AsgName: name,
    TargetGroups: targetGroups,
    MinSize: minSize,
    MaxSize: sizes.maxSize,
    SteadyMinSize: sizes.minSize,
    ProductionAsgName: production?.AutoScalingGroupName,
    ProductionTargetGroupArns: production ? (recorded?.TargetGroupArns ?? []) : [],
    Rollout: rollout,
    Rules: rules,
    HealthDeadline: new Date(Date.now() + request.Config.HealthTimeout * 1000).toISOString(),
    Steps: stepCount(request.Config.TrafficShiftPerStep),
  };
  ctx.log.info('Cloned service', { asg: name, targetGroups: targetGroups.length, minSize, rollout, launchTemplateVersion, amiId: r.amiId });
  return {
    phase: 'WaitingHealthy',
    set: { Plan: plan, DeployAsgName: name },
    history: { ResolvedAmiId: r.amiId, AsgName: name, TargetGroupArns: targetGroups.map((t) => t.Arn), Rollout: rollout },
    emit: [
      deadlineTimer(ctx, state),
      {
        DetailType: 'AsgCloned',
        Detail: {
          ...refOf({ ...key, DeployId: request.DeployId, Seq: 1 }),
          Seq: 1,
          AmiId: r.amiId,
          AsgName: name,
          TargetGroupArns: targetGroups.map((t) => t.Arn),
          LaunchTemplate: { LaunchTemplateId: r.launchTemplateId, Version: launchTemplateVersion },
          MinSize: minSize,
          MaxSize: sizes.maxSize,
          ProductionAsgName: production?.AutoScalingGroupName,
          Rollout: rollout,
          RuleArns: rules.map((x) => x.ruleArn),
        },
      },
    ],
  };
}

/**
 * DryRun: resolve and plan by reading only → DeployPlanned (or DeployRejected); AWS and the
 * deploy state stay as they are (the ledger only records the dry-run window).
 */
async function planOnly(ctx: StepContext, envelope: EventEnvelope, input: DeployRequested, deployId: string, state: ServiceState | undefined) {
  if (!(await withinDryRunLimit(ctx, envelope, input, deployId))) return;
  try {
    const resolved = await resolve(ctx, input, deployId, recordedProduction(state));
    const requestedAt = Number.isNaN(Date.parse(envelope.time)) ? new Date() : new Date(envelope.time);
    const planned = await planDeploy(input, deployId, resolved, state, requestedAt);
    ctx.log.info('Dry run planned', { rollout: planned.Rollout, rules: planned.Rules.length, warnings: planned.Warnings.length });
    await publish(ctx.cp.events, ctx.cfg.busName, [{ DetailType: 'DeployPlanned', Detail: planned }]);
  } catch (err) {
    if (err instanceof RejectedError || err instanceof DeployFailure) {
      return reject(ctx, envelope, err instanceof RejectedError ? err.reasons : [err.message], deployId, { dryRun: true });
    }
    throw err;
  }
}

/**
 * The dry-run limit (domain/dry-run.ts), before anything is read in the workload account: true if
 * this dry run is to be planned; otherwise it was dropped, or rejected here.
 */
async function withinDryRunLimit(ctx: StepContext, envelope: EventEnvelope, input: DeployRequested, deployId: string): Promise<boolean> {
  const intervalSeconds = ctx.cfg.dryRunIntervalSeconds;
  if (intervalSeconds === 0) return true;
  const key: ServiceKey = { AccountCanonicalSlug: input.AccountCanonicalSlug, ServiceName: input.ServiceName };
  const now = Date.now();
  const mine = dryRunWindow(input, deployId, envelope.id, now, intervalSeconds);
  const claim = await ctx.ledger.openDryRunWindow(key, mine, now);
  const decision = decideDryRun(mine, claim, { where: `${key.ServiceName} in ${key.AccountCanonicalSlug}`, intervalSeconds, now });
  switch (decision.kind) {
    case 'plan':
      return true;
    case 'drop':
      ctx.log.info('Dropping a repeat of the dry run planned moments ago: its answer answers this one', { openedBy: decision.holder.EventId });
      return false;
    case 'reject':
      await reject(ctx, envelope, [decision.reason], deployId, { dryRun: true, retryAt: decision.retryAt });
      return false;
  }
}

export async function reject(
  ctx: StepContext,
  envelope: EventEnvelope,
  reasons: string[],
  deployId?: string,
  opts: { dryRun?: boolean; retryAt?: string } = {},
): Promise<void> {
  const echo = echoFields(envelope.detail);
  ctx.log.warn('Deploy rejected', { reasons });
  await publish(ctx.cp.events, ctx.cfg.busName, [
    {
      DetailType: 'DeployRejected',
      Detail: { ...echo, DeployId: deployId ?? echo.DeployId ?? envelope.id, Reasons: reasons, DryRun: opts.dryRun, RetryAt: opts.retryAt },
    },
  ]);
}

/**
 * Another deploy or an undeploy holds the service. `fail`: this deploy ends here. `rollback`:
 * the running deploy is rolled back and this one waits in the ledger; the rollback's last step
 * wakes it (QueuedDeployReady). Returns false if the holder changed meanwhile (look again).
 */
async function onConcurrentDeploy(
  ctx: StepContext,
  key: ServiceKey,
  request: DeployRequest,
  input: DeployRequested,
  holder: ServiceState,
): Promise<boolean> {
  const where = `${key.ServiceName} in ${key.AccountCanonicalSlug}`;
  if (holder.Phase === 'Undeploying') {
    await notStarted(ctx, key, request, `${where} is being undeployed (${holder.ActiveDeployId})`);
    return true;
  }
  if (request.Config.OnConcurrentDeploy === 'fail') {
    await notStarted(
      ctx,
      key,
      request,
      `a different deploy (${holder.ActiveDeployId}, ${holder.Phase}) is running for ${where}; OnConcurrentDeploy is "fail"`,
    );
    return true;
  }
  if (isActiveDeploy(holder.Phase)) {
    await interrupt(ctx, key, holder.ActiveDeployId, 'superseded', `superseded by deploy ${request.DeployId}`);
  }
  const queued = await ctx.ledger.enqueue(key, holder.ActiveDeployId, {
    Kind: 'deploy',
    Id: request.DeployId,
    Request: { ...input, DeployId: request.DeployId },
  });
  if (!queued) return false;
  ctx.log.info('Waiting for the running deploy to roll back', { holder: holder.ActiveDeployId });
  if (queued.replaced) await supersedeWaiting(ctx, key, queued.replaced, request.DeployId);
  return true;
}

/** The deploy ends before it started: nothing was changed. */
async function notStarted(ctx: StepContext, key: ServiceKey, request: DeployRequest, why: string) {
  ctx.log.warn('Deploy not started', { why });
  await ctx.ledger.recordUnstarted(key, request, 'RolledBack', { Result: 'Failed', Errors: [why], FinishedAt: new Date().toISOString() });
  await publish(ctx.cp.events, ctx.cfg.busName, [
    { DetailType: 'DeployFailed', Detail: { ...key, DeployId: request.DeployId, Seq: 0, Phase: 'Starting', Errors: [why] } },
  ]);
}
