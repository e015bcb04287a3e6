import { readFileSync, writeFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployAccessRole, DeployerRole, Deployomat, MetaAccessRole } from '../../infra/cdk';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../infra/local/local-env';
import { DEPLOY_ROLE_ARN, META_ACCOUNT, META_ROLE_ARN, ORG, seedAlarm, seedService, WORKLOAD_ACCOUNT, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { IamCallLog, type Principal, type RecordedCall } from '../helpers/iam-calls';
import { iamRequests, type Accounts } from '../helpers/iam-requests';
import { ACCOUNT, busPolicy, identityPolicies, newApp, props, queuePolicy, resolve, resourcesOf, roleId, simulate, trustPolicy, type CfnTemplate, type PolicyDocument } from '../infra/helpers';

/**
 * Issue #13, part 2: IAM proven from the calls the code makes. The core scenarios run on the
 * emulator (which ignores IAM) while every AWS call of the handlers — and those AWS makes with
 * their roles: the event source mappings' receives and deletes, Scheduler's deliveries — is
 * recorded; each is then replayed, as the IAM requests AWS authorizes for it (implicit ones
 * included: test/helpers/iam-requests.ts), through the IAM simulator against the synthesized
 * policies of the role that makes it in AWS. Any deny fails.
 */
describe('IAM replay of the calls the handlers make (emulator + IAM simulator)', () => {
  const slug = 'acme-iam';
  let t: TestDeployomat;
  let log: IamCallLog;
  let web: SeededService;
  let worker: SeededService;

  beforeAll(async () => {
    log = IamCallLog.start({ [DEPLOY_ROLE_ARN]: 'deploy', [META_ROLE_ARN]: 'meta' });
    t = await startTestDeployomat({ slug });
    web = await seedService(t.account, { service: 'web', web: true, amis: ['web-v1', 'web-v2', 'web-v3'] });
    worker = await seedService(t.account, { service: 'worker', web: false, amis: ['worker-v1'] });
    await seedAlarm('web-5xx');
  });
  afterAll(async () => {
    log?.stop();
    await t?.stop();
  });

  const deploy = async (svc: SeededService, ami: string, deployId: string, config: Record<string, unknown> = FAST) => {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: svc.service, AmiId: svc.amis[ami]!, DeployId: deployId, DeployConfig: config });
    return t.observer.outcome(deployId, 90_000);
  };

  it('runs the core scenarios, then finds every recorded call allowed by the role that makes it in AWS', async () => {
    // Prepare: a first deploy, a blue/green one with alarms and an automatic undeploy, one
    // cancelled mid-shift, a non-web one, a dry run, an undeploy.
    expect((await deploy(web, 'web-v1', 'iam-1')).detailType).toBe('DeployCompleted');
    expect((await deploy(web, 'web-v2', 'iam-2', { ...FAST, RollbackAlarms: ['web-5xx'], AutomaticUndeployMinutes: 60 })).detailType).toBe('DeployCompleted');
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', AmiId: web.amis['web-v3'], DeployId: 'iam-3', DeployConfig: { ...FAST, WaitPerStep: 30 } });
    await t.observer.waitFor((e) => e.detailType === 'TrafficShifted' && e.detail.DeployId === 'iam-3', 60_000);
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: 'web', Reason: 'replay' });
    expect((await t.observer.outcome('iam-3', 60_000)).detailType).toBe('DeployCancelled');
    expect((await deploy(worker, 'worker-v1', 'iam-4')).detailType).toBe('DeployCompleted');
    expect((await deploy(web, 'web-v3', 'iam-5', { ...FAST, DryRun: true })).detailType).toBe('DeployPlanned');
    const undeployId = await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'worker' });
    expect((await t.observer.undeployOutcome(undeployId, 60_000)).detailType).toBe('UndeployCompleted');
    log.stop();

    // Act
    const { denied, rows } = await replay(log.calls.filter((c) => c.ok), t.local.install.schedulerRoleArn);

    // Assess
    expect(log.calls.length).toBeGreaterThan(200);
    expect(denied).toEqual([]);
    // docs/INFRA.md's permission table lists every one (DEPLOYOMAT_UPDATE_DOCS=1 rewrites it from this run).
    const doc = readFileSync(INFRA_DOC, 'utf8');
    const [before, rest] = doc.split(TABLE_START);
    const [, after] = (rest ?? '').split(TABLE_END);
    if (process.env.DEPLOYOMAT_UPDATE_DOCS === '1') {
      const table = ['| role | call | IAM action | why |', '|---|---|---|---|', ...[...rows].sort()].join('\n');
      writeFileSync(INFRA_DOC, `${before}${TABLE_START}\n${table}\n${TABLE_END}${after ?? '\n'}`);
    }
    const documented = new Set(readFileSync(INFRA_DOC, 'utf8').split('\n'));
    expect([...rows].filter((r) => !documented.has(r)), 'rows missing from docs/INFRA.md: run with DEPLOYOMAT_UPDATE_DOCS=1').toEqual([]);
  });
});

const INFRA_DOC = new URL('../../docs/INFRA.md', import.meta.url);
const TABLE_START = '<!-- permission table: generated by test/emulator/iam-replay.test.ts -->';
const TABLE_END = '<!-- end of permission table -->';

/** The installation as CloudFormation would deploy it, in the accounts of the emulator's setup. */
function synthesize() {
  const app = newApp();
  const stack = (id: string, account: string) => new Stack(app, id, { env: { account, region: LOCAL_REGION } });
  const cicdStack = stack('CiCd', ACCOUNT);
  const deployomat = new Deployomat(cicdStack, 'Deployomat', {
    environment: 'development',
    organizationPrefix: ORG,
    metaRoleArn: `arn:aws:iam::${META_ACCOUNT}:role/DeployomatParameterAccess`,
  });
  new DeployerRole(cicdStack, 'Deployer', { deployomat, userAccountIds: ['444444444444'] });
  const workloadStack = stack('Workload', WORKLOAD_ACCOUNT);
  new DeployAccessRole(workloadStack, 'DeployAccess', { ciCdAccountIds: [ACCOUNT], environment: 'development', organizationPrefix: ORG });
  const metaStack = stack('Meta', META_ACCOUNT);
  new MetaAccessRole(metaStack, 'MetaAccess', { ciCdAccountIds: [ACCOUNT], organizationPrefix: ORG });
  const json = (s: Stack) => Template.fromStack(s).toJSON() as CfnTemplate;
  return { cicd: json(cicdStack), workload: json(workloadStack), meta: json(metaStack) };
}

/** One row of the permission table: who calls what, and which IAM action AWS checks for it, why. */
const rowOf = (call: RecordedCall, request: { action: string; why: string }) =>
  `| ${ROLE_NAMES[call.principal]} | ${call.service} ${call.operation} | \`${request.action}\` | ${request.why} |`;
const ROLE_NAMES: Record<Principal, string> = {
  handlers: 'handlers (`<prefix>-handlers`)',
  scheduler: 'scheduler role',
  deploy: '`DeployAccessRole`',
  meta: '`MetaAccessRole`',
};

async function replay(calls: RecordedCall[], schedulerRoleArn: string): Promise<{ denied: string[]; rows: Set<string> }> {
  const { cicd, workload, meta } = synthesize();
  // The helpers resolve a role's ARN in their one account: put each in the account of its stack.
  const role = (template: CfnTemplate, prefix: string, account: string) => {
    const id = roleId(template, prefix);
    const tags = Object.fromEntries(((props(template.Resources[id]!).Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]));
    const arn = (resolve({ 'Fn::GetAtt': [id, 'Arn'] }, template) as string).replace(`:${ACCOUNT}:`, `:${account}:`);
    return { id, template, arn, identity: identityPolicies(template, id), tags };
  };
  const roles: Record<Principal, ReturnType<typeof role>> = {
    handlers: role(cicd, 'DeployomatHandlerRole', ACCOUNT),
    scheduler: role(cicd, 'DeployomatSchedulerRole', ACCOUNT),
    deploy: role(workload, 'DeployAccess', WORKLOAD_ACCOUNT),
    meta: role(meta, 'MetaAccess', META_ACCOUNT),
  };
  const [keyId, key] = resourcesOf(cicd, 'AWS::KMS::Key')[0] ?? [];
  const accounts: Accounts = {
    region: LOCAL_REGION,
    cicd: ACCOUNT,
    localAccount: LOCAL_ACCOUNT,
    workload: WORKLOAD_ACCOUNT,
    meta: META_ACCOUNT,
    keyArn: keyId ? (resolve({ 'Fn::GetAtt': [keyId, 'Arn'] }, cicd) as string) : undefined,
    deployRoleArn: DEPLOY_ROLE_ARN,
    metaRoleArn: META_ROLE_ARN,
    arnMap: { [schedulerRoleArn]: roles.scheduler.arn },
  };
  const keyPolicy = key ? (resolve(props(key).KeyPolicy, cicd) as PolicyDocument) : undefined;

  const seen = new Set<string>();
  const denied: string[] = [];
  const rows = new Set<string>();
  for (const call of calls) {
    const caller = roles[call.principal];
    for (const request of iamRequests(call, accounts)) {
      rows.add(rowOf(call, request));
      const principalTags = Object.fromEntries(Object.entries({ ...caller.tags, ...call.sessionTags }).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]));
      const context = { ...principalTags, ...request.context, 'aws:PrincipalArn': caller.arn };
      let resource = request.resource;
      // `*` (actions without resource-level permissions) is of the caller's own account.
      let resourceAccount = resource === '*' ? caller.arn.split(':')[4]! : resource.split(':')[4] || ACCOUNT;
      let resourcePolicy: PolicyDocument | undefined;
      const policy = request.resourcePolicy;
      if (policy?.kind === 'queue') resourcePolicy = queuePolicy(cicd, policy.name);
      if (policy?.kind === 'bus') resourcePolicy = busPolicy(cicd);
      if (policy?.kind === 'trust') {
        const target = roles[policy.role];
        resource = target.arn;
        resourceAccount = target.arn.split(':')[4]!;
        resourcePolicy = trustPolicy(target.template, target.id);
        Object.assign(context, Object.fromEntries(Object.entries(target.tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])));
      }
      if (request.action.startsWith('kms:')) resourcePolicy = keyPolicy;
      const id = `${call.principal} ${call.operation} → ${request.action} ${resource} ${JSON.stringify(context)}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const decision = await simulate({ principal: caller.arn, action: request.action, resource, resourceAccount, identity: caller.identity, resourcePolicy, context }).catch(
        (err: Error) => `not simulated: ${err.message}`,
      );
      if (decision !== 'Allowed' && process.env.IAM_REPLAY_DEBUG) console.log(id);
      if (decision !== 'Allowed') denied.push(`${call.principal} ${call.service}:${call.operation} → ${request.action} on ${resource}: ${decision} (${request.why})`);
    }
  }
  return { denied: [...new Set(denied)], rows };
}

