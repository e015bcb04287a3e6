import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, CLIENT_SOURCE, type DetailType } from '../../events/catalog';
import { handlers, resourceNames, timerHandler } from '../../events/topology';
import { DeployAccessRole, DeployerRole, Deployomat, MetaAccessRole, SlackBotToken, SlackNotifier } from '../../infra/cdk';
import {
  ACCOUNT,
  busPolicy,
  identityPolicies,
  newApp,
  newStack,
  props,
  queuePolicy,
  REGION,
  resolve,
  roleId,
  simulate,
  trustPolicy,
  type CfnTemplate,
  type PolicyDocument,
} from './helpers';

/**
 * Issue #12 (trust boundaries): each attack of the security review, performed against the
 * synthesized policies with the IAM simulator. Each failed on the templates before the fix.
 */
const ORG = 'acme';
const ORG_ID = 'o-abcdefghij';
const EXTERNAL_ID = 'acme-deployomat-4f1c';
const names = resourceNames();
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${names.bus}`;
const HANDLER_ROLE = `arn:aws:iam::${ACCOUNT}:role/${names.handlerRole}`;
const CI_ROLE = `arn:aws:iam::${ACCOUNT}:role/ci-build`;
const allowAll: PolicyDocument[] = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];
const clientCommands = (Object.keys(catalog) as DetailType[]).filter((t) => catalog[t].source === CLIENT_SOURCE);

let cicd: CfnTemplate;
let split: CfnTemplate;
let optOut: CfnTemplate;
let workload: CfnTemplate;
let workloadInOrg: CfnTemplate;
let workloadOptOut: CfnTemplate;
let meta: CfnTemplate;
let workloadExternal: CfnTemplate;
let metaExternal: CfnTemplate;

beforeAll(() => {
  const app = newApp();
  const cicdStack = newStack(app, 'CiCd');
  const deployomat = new Deployomat(cicdStack, 'Deployomat', { environment: 'development', organizationPrefix: ORG });
  new DeployerRole(cicdStack, 'Deployer', { deployomat, userAccountIds: ['222222222222'] });
  const secret = new secretsmanager.Secret(cicdStack, 'SlackToken');
  new SlackNotifier(cicdStack, 'Slack', { deployomat, token: SlackBotToken.fromSecret(secret), channel: '#deploys' });

  // Per-command roles: CI deploys and cancels; another role undeploys and promotes.
  const splitStack = newStack(app, 'Split');
  const d2 = new Deployomat(splitStack, 'Deployomat', { environment: 'development', organizationPrefix: ORG, commandPublisherArns: [`arn:aws:iam::${ACCOUNT}:role/extra`] });
  new DeployerRole(splitStack, 'Ci', { deployomat: d2, userAccountIds: ['222222222222'], roleName: 'ci-deployer', commands: ['DeployRequested', 'CancelRequested'] });
  new DeployerRole(splitStack, 'Ops', { deployomat: d2, userAccountIds: ['222222222222'], roleName: 'ops', commands: ['UndeployRequested', 'PromoteRequested'] });

  const optOutStack = newStack(app, 'OptOut');
  new Deployomat(optOutStack, 'Deployomat', { environment: 'development', organizationPrefix: ORG, restrictCommandPublishers: false });

  const w = (id: string, extra: Partial<ConstructorParameters<typeof DeployAccessRole>[2]> = {}) => {
    const stack = newStack(app, id);
    new DeployAccessRole(stack, 'DeployAccess', { ciCdAccountIds: [ACCOUNT], environment: 'development', organizationPrefix: ORG, ...extra });
    return stack;
  };
  const workloadStacks = [w('Workload'), w('WorkloadInOrg', { organizationId: ORG_ID }), w('WorkloadOptOut', { trustTaggedPrincipals: true })];
  const metaStack = newStack(app, 'Meta');
  new MetaAccessRole(metaStack, 'MetaAccess', { ciCdAccountIds: [ACCOUNT], organizationPrefix: ORG, organizationId: ORG_ID });
  const metaExternalStack = newStack(app, 'MetaExternal');
  new MetaAccessRole(metaExternalStack, 'MetaAccess', { ciCdAccountIds: [ACCOUNT], organizationPrefix: ORG, externalId: EXTERNAL_ID });
  workloadExternal = Template.fromStack(w('WorkloadExternal', { externalId: EXTERNAL_ID })).toJSON() as CfnTemplate;
  metaExternal = Template.fromStack(metaExternalStack).toJSON() as CfnTemplate;

  const synth = (stack: Parameters<typeof Template.fromStack>[0]) => Template.fromStack(stack).toJSON() as CfnTemplate;
  [cicd, split, optOut, meta] = [cicdStack, splitStack, optOutStack, metaStack].map(synth) as [CfnTemplate, CfnTemplate, CfnTemplate, CfnTemplate];
  [workload, workloadInOrg, workloadOptOut] = workloadStacks.map(synth) as [CfnTemplate, CfnTemplate, CfnTemplate];
});


/** A principal whose identity policy allows everything (a CI build role with events:PutEvents on *, an administrator). */
const publish = (template: CfnTemplate, principal: string, type: DetailType, identity = allowAll) =>
  simulate({
    principal,
    action: 'events:PutEvents',
    resource: BUS,
    identity,
    resourcePolicy: busPolicy(template),
    context: { 'events:source': [CLIENT_SOURCE], 'events:detail-type': [type], 'aws:PrincipalArn': principal },
  });

describe('Finding 1: only named principals publish client commands', () => {
  it.each(clientCommands)('denies a CI role with events:PutEvents on * publishing %s', async (type) => {
    expect(await publish(cicd, CI_ROLE, type)).toBe('ExplicitlyDenied');
  });

  it('lets the DeployerRole deploy, and the scheduler role publish the automatic undeploy only', async () => {
    const deployer = `arn:aws:iam::${ACCOUNT}:role/${ORG}/ci-service-role/DeployomatDeployer`;
    expect(await publish(cicd, deployer, 'DeployRequested', identityPolicies(cicd, roleId(cicd, 'Deployer')))).toBe('Allowed');
    const scheduler = resolve({ 'Fn::GetAtt': [roleId(cicd, 'DeployomatSchedulerRole'), 'Arn'] }, cicd) as string;
    const schedulerIdentity = identityPolicies(cicd, roleId(cicd, 'DeployomatSchedulerRole'));
    expect(await publish(cicd, scheduler, 'UndeployRequested', schedulerIdentity)).toBe('Allowed');
    expect(await publish(cicd, scheduler, 'DeployRequested', allowAll)).toBe('ExplicitlyDenied');
  });

  it('lets each role publish only the commands it was granted (finding 5), and commandPublisherArns all of them', async () => {
    const ci = `arn:aws:iam::${ACCOUNT}:role/${ORG}/ci-service-role/ci-deployer`;
    const ops = `arn:aws:iam::${ACCOUNT}:role/${ORG}/ci-service-role/ops`;
    const extra = `arn:aws:iam::${ACCOUNT}:role/extra`;
    const decisions = async (principal: string) => Object.fromEntries(await Promise.all(clientCommands.map(async (c) => [c, await publish(split, principal, c)])));
    expect(await decisions(ci)).toEqual({
      DeployRequested: 'Allowed',
      CancelRequested: 'Allowed',
      UndeployRequested: 'ExplicitlyDenied',
      PauseRequested: 'ExplicitlyDenied',
      ResumeRequested: 'ExplicitlyDenied',
      PromoteRequested: 'ExplicitlyDenied',
    });
    expect(await decisions(ops)).toEqual({
      DeployRequested: 'ExplicitlyDenied',
      CancelRequested: 'ExplicitlyDenied',
      UndeployRequested: 'Allowed',
      PauseRequested: 'ExplicitlyDenied',
      ResumeRequested: 'ExplicitlyDenied',
      PromoteRequested: 'Allowed',
    });
    for (const c of clientCommands) expect(await publish(split, extra, c), c).toBe('Allowed');
    // The role's own policy grants only its commands too.
    expect(await publish(split, ci, 'UndeployRequested', identityPolicies(split, roleId(split, 'Ci')))).not.toBe('Allowed');
  });

  it('restrictCommandPublishers: false lets any principal with an identity grant publish commands again (the opt-out)', async () => {
    expect(await publish(optOut, CI_ROLE, 'DeployRequested')).toBe('Allowed');
  });

  it('rejects a grant of something that is not a client command', () => {
    const stack = newStack(newApp(), 'Bad');
    const d = new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: ORG });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => d.grantPublishCommands(role, ['BakeElapsed'])).toThrow(/commands must be client commands/);
  });
});

const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const ruleArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${names.bus}/${name}`;
const send = (name: string, principal: string, context: Record<string, string> = {}, identity: PolicyDocument[] = allowAll) =>
  simulate({ principal, action: 'sqs:SendMessage', resource: queueArn(name), identity, resourcePolicy: queuePolicy(cicd, name), context });

describe('Finding 1: each queue takes messages from its own senders only', () => {
  // Core handlers and the Slack notifier (a feature, built by its own construct).
  const consumers = handlers.filter((h) => h.trigger.kind === 'events');

  it.each(consumers.map((h) => h.name))('denies a principal with sqs:SendMessage on * dropping a message on %s and its dead-letter queue', async (name) => {
    const ctx = { 'aws:PrincipalArn': CI_ROLE };
    expect(await send(names.queue(name), CI_ROLE, ctx)).toBe('ExplicitlyDenied');
    expect(await send(names.deadLetterQueue(name), CI_ROLE, ctx)).toBe('ExplicitlyDenied');
    // Not even the handlers, which never send to these queues.
    expect(await send(names.queue(name), HANDLER_ROLE, { 'aws:PrincipalArn': HANDLER_ROLE })).toBe('ExplicitlyDenied');
  });

  it.each(consumers.map((h) => h.name))("accepts %s's own rule, and refuses another handler's rule", async (name) => {
    const own = { 'aws:SourceArn': ruleArn(names.rule(name)), 'aws:SourceAccount': ACCOUNT };
    expect(await send(names.queue(name), 'events.amazonaws.com', own, [])).toBe('Allowed');
    expect(await send(names.deadLetterQueue(name), 'events.amazonaws.com', own, [])).toBe('Allowed');
    const other = name === 'undeploy' ? 'start-deploy' : 'undeploy';
    const foreign = { 'aws:SourceArn': ruleArn(names.rule(other)), 'aws:SourceAccount': ACCOUNT };
    expect(await send(names.queue(name), 'events.amazonaws.com', foreign, [])).not.toBe('Allowed');
  });

  it('accepts timers from the handler and scheduler roles only; its dead-letter queue from nobody', async () => {
    const timer = names.queue(timerHandler().name);
    const scheduler = resolve({ 'Fn::GetAtt': [roleId(cicd, 'DeployomatSchedulerRole'), 'Arn'] }, cicd) as string;
    expect(await send(timer, HANDLER_ROLE, { 'aws:PrincipalArn': HANDLER_ROLE }, identityPolicies(cicd, roleId(cicd, 'DeployomatHandlerRole')))).toBe('Allowed');
    expect(await send(timer, scheduler, { 'aws:PrincipalArn': scheduler }, identityPolicies(cicd, roleId(cicd, 'DeployomatSchedulerRole')))).toBe('Allowed');
    expect(await send(timer, CI_ROLE, { 'aws:PrincipalArn': CI_ROLE })).toBe('ExplicitlyDenied');
    expect(await send(names.deadLetterQueue(timerHandler().name), HANDLER_ROLE, { 'aws:PrincipalArn': HANDLER_ROLE })).toBe('ExplicitlyDenied');
  });
});

describe('Finding 2: workload and meta roles trust the handler role only', () => {
  const assume = (template: CfnTemplate, id: string, principal: string, context: Record<string, string | string[]> = {}, action = 'sts:AssumeRole') =>
    simulate({
      principal,
      action,
      resource: resolve({ 'Fn::GetAtt': [roleId(template, id), 'Arn'] }, template) as string,
      identity: allowAll,
      resourcePolicy: trustPolicy(template, roleId(template, id)),
      context: { 'aws:PrincipalTag/Service': 'deployomat', 'aws:PrincipalTag/Environment': 'development', 'aws:PrincipalArn': principal, ...context },
    });

  it('refuses another role of the CI/CD account carrying the Service and Environment tags', async () => {
    expect(await assume(workload, 'DeployAccess', HANDLER_ROLE)).toBe('Allowed');
    expect(await assume(workload, 'DeployAccess', CI_ROLE)).not.toBe('Allowed');
  });

  it('trusts tagged principals again with trustTaggedPrincipals (the opt-out)', async () => {
    expect(await assume(workloadOptOut, 'DeployAccess', CI_ROLE)).toBe('Allowed');
  });

  it('requires the organization when an organization id is given', async () => {
    expect(await assume(workloadInOrg, 'DeployAccess', HANDLER_ROLE, { 'aws:PrincipalOrgID': ORG_ID })).toBe('Allowed');
    expect(await assume(workloadInOrg, 'DeployAccess', HANDLER_ROLE, { 'aws:PrincipalOrgID': 'o-zzzzzzzzzz' })).not.toBe('Allowed');
    expect(await assume(workloadInOrg, 'DeployAccess', HANDLER_ROLE)).not.toBe('Allowed');
    const session = { 'aws:RequestTag/Environment': 'development', 'sts:TransitiveTagKeys': ['Environment'], 'aws:PrincipalOrgID': ORG_ID };
    expect(await assume(meta, 'MetaAccess', HANDLER_ROLE, session)).toBe('Allowed');
    expect(await assume(meta, 'MetaAccess', CI_ROLE, session)).not.toBe('Allowed');
    expect(await assume(meta, 'MetaAccess', HANDLER_ROLE, { ...session, 'aws:PrincipalOrgID': 'o-zzzzzzzzzz' })).not.toBe('Allowed');
  });

  const metaSession: Record<string, string | string[]> = { 'aws:RequestTag/Environment': 'development', 'sts:TransitiveTagKeys': ['Environment'] };
  it.each([
    ['the workload role', () => workloadExternal, 'DeployAccess', {}],
    ['the meta role', () => metaExternal, 'MetaAccess', metaSession],
  ])('requires the external id, when one is set, to assume %s (issue #14, 3c)', async (_role, template, id, session) => {
    // Act
    const decisions = {
      without: await assume(template(), id, HANDLER_ROLE, { ...session }),
      wrong: await assume(template(), id, HANDLER_ROLE, { ...session, 'sts:ExternalId': 'acme-deployomat-0000' }),
      with: await assume(template(), id, HANDLER_ROLE, { ...session, 'sts:ExternalId': EXTERNAL_ID }),
      otherRoleWith: await assume(template(), id, CI_ROLE, { ...session, 'sts:ExternalId': EXTERNAL_ID }),
    };

    // Assess
    expect(decisions).toEqual({ without: 'ImplicitlyDenied', wrong: 'ImplicitlyDenied', with: 'Allowed', otherRoleWith: 'ImplicitlyDenied' });
    // The session tags of that AssumeRole call are authorized without it: TagSession has no sts:ExternalId.
    const tags = { ...session, 'aws:RequestTag/DeployomatService': 'acme-dev/web' };
    expect(await assume(template(), id, HANDLER_ROLE, tags, 'sts:TagSession')).toBe('Allowed');
    expect(await assume(template(), id, CI_ROLE, tags, 'sts:TagSession')).toBe('ImplicitlyDenied');
  });

  it('tags only the handler role with Service and Environment, not the scheduler role', () => {
    const tags = (prefix: string) => ((props(cicd.Resources[roleId(cicd, prefix)]!).Tags ?? []) as { Key: string }[]).map((t) => t.Key);
    expect(tags('DeployomatHandlerRole')).toEqual(expect.arrayContaining(['Service', 'Environment']));
    expect(tags('DeployomatSchedulerRole')).not.toContain('Service');
    expect(tags('DeployomatSchedulerRole')).not.toContain('Environment');
  });
});
