import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../infra/local/local-env';
import { DEPLOY_ROLE_ARN, META_ACCOUNT, META_ROLE_ARN, ORG, WORKLOAD_ACCOUNT } from '../../infra/local/seed';
import { ACCOUNT, busPolicy, identityPolicies, newApp, props, queuePolicy, resolve, resourcesOf, roleId, simulate, trustPolicy, type CfnTemplate, type PolicyDocument } from '../infra/helpers';
import type { Principal, RecordedCall } from './iam-calls';
import { iamRequests, type Accounts } from './iam-requests';

/**
 * Replays recorded calls (test/helpers/iam-calls.ts) through the IAM simulator against the
 * policies CloudFormation would deploy for the emulator's setup: each call's IAM requests
 * (test/helpers/iam-requests.ts) decided by the synthesized policy of the role that makes it in
 * AWS, with the resource policies that also decide (queues, the bus, trust, the key).
 */
export interface ReplayOptions {
  /** As the installation under test was configured (`DEPLOYOMAT_REQUIRE_OWNER_TAGS`). */
  requireOwnerTags?: boolean;
  /**
   * The installation's environment; the workload roles are set up for it (a DeployAccessRole trusts
   * only an installation of its own environment). @default development
   */
  environment?: string;
  /** The installation's `roleExternalId`: the meta and workload roles are set up to require it. */
  externalId?: string;
  /** A seeded mistake: the identity-policy statement with this Sid left out of every role's policies. */
  withoutStatement?: string;
  /** A seeded mistake: one more identity-policy statement for one role. */
  extraStatement?: { role: Principal; statement: PolicyDocument['Statement'][number] };
}

/** What the synthesized policies depend on (the rest of ReplayOptions is applied after synthesis). */
type SynthOptions = Pick<ReplayOptions, 'environment' | 'requireOwnerTags' | 'externalId'>;
interface Templates {
  cicd: CfnTemplate;
  workload: CfnTemplate;
  meta: CfnTemplate;
}

/** The installation as CloudFormation would deploy it, in the accounts of the emulator's setup. */
async function synthesize(opts: SynthOptions): Promise<Templates> {
  // Loaded only here: a cache hit needs no CDK.
  const [{ Stack }, { Template }, { DeployAccessRole, DeployerRole, Deployomat, MetaAccessRole }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/assertions'),
    import('../../infra/cdk'),
  ]);
  const app = newApp();
  const stack = (id: string, account: string) => new Stack(app, id, { env: { account, region: LOCAL_REGION } });
  const cicdStack = stack('CiCd', ACCOUNT);
  const environment = opts.environment ?? 'development';
  const deployomat = new Deployomat(cicdStack, 'Deployomat', {
    environment,
    requireOwnerTags: opts.requireOwnerTags,
    organizationPrefix: ORG,
    metaRoleArn: `arn:aws:iam::${META_ACCOUNT}:role/DeployomatParameterAccess`,
    roleExternalId: opts.externalId,
  });
  new DeployerRole(cicdStack, 'Deployer', { deployomat, userAccountIds: ['444444444444'] });
  const workloadStack = stack('Workload', WORKLOAD_ACCOUNT);
  new DeployAccessRole(workloadStack, 'DeployAccess', {
    ciCdAccountIds: [ACCOUNT],
    environment,
    organizationPrefix: ORG,
    requireOwnerTags: opts.requireOwnerTags,
    externalId: opts.externalId,
  });
  const metaStack = stack('Meta', META_ACCOUNT);
  new MetaAccessRole(metaStack, 'MetaAccess', { ciCdAccountIds: [ACCOUNT], organizationPrefix: ORG, externalId: opts.externalId });
  const json = (s: InstanceType<typeof Stack>) => Template.fromStack(s).toJSON() as CfnTemplate;
  return { cicd: json(cicdStack), workload: json(workloadStack), meta: json(metaStack) };
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Synthesized templates, one file per options and sources (git-ignored): every emulator file
 * replays its calls when it stops, and synthesizing the three stacks takes ~2 s each time.
 */
const TEMPLATE_CACHE = join(REPO_ROOT, '.cache', 'iam-replay');
/** What the templates are built from (the constructs, what they import, this file, the CDK version): any change is a new synthesis. */
const SOURCES = ['infra', 'events', 'domain', 'handlers', 'test/helpers/iam-replay.ts', 'test/infra/helpers.ts', 'package-lock.json', 'tsconfig.json'];
let sourcesHash: string | undefined;

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

/** `synthesize`, cached on disk by a hash of its options and of the sources. */
async function templates(opts: SynthOptions): Promise<Templates> {
  if (!sourcesHash) {
    const hash = createHash('sha256');
    for (const file of SOURCES.flatMap((s) => filesUnder(join(REPO_ROOT, s)))) hash.update(file.slice(REPO_ROOT.length)).update(readFileSync(file));
    sourcesHash = hash.digest('hex');
  }
  const options = { environment: opts.environment ?? 'development', requireOwnerTags: opts.requireOwnerTags ?? null, externalId: opts.externalId ?? null };
  const key = createHash('sha256').update(sourcesHash).update(JSON.stringify(options)).digest('hex').slice(0, 16);
  const file = join(TEMPLATE_CACHE, `${key}.json`);
  if (existsSync(file)) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as Templates;
      utimesSync(file, new Date(), new Date()); // the newest used are kept
      return cached;
    } catch {
      // Unreadable (e.g. cut short): synthesized again below.
    }
  }
  const synthesized = await synthesize(opts);
  mkdirSync(TEMPLATE_CACHE, { recursive: true });
  // Written whole, then renamed: a file running alongside never reads half of it.
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, JSON.stringify(synthesized));
  renameSync(staging, file);
  prune();
  return synthesized;
}

/** Keeps the most recently used few (a few options per checkout, a few checkouts). */
function prune(keep = 16): void {
  const entries = readdirSync(TEMPLATE_CACHE)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ path: join(TEMPLATE_CACHE, name), time: statSync(join(TEMPLATE_CACHE, name)).mtimeMs }))
    .sort((a, b) => b.time - a.time);
  for (const old of entries.slice(keep)) rmSync(old.path, { force: true });
}

/** One row of the permission table: who calls what, and which IAM action AWS checks for it, why. */
export const rowOf = (call: RecordedCall, request: { action: string; why: string }) =>
  `| ${ROLE_NAMES[call.principal]} | ${call.service} ${call.operation} | \`${request.action}\` | ${request.why} |`;
const ROLE_NAMES: Record<Principal, string> = {
  handlers: 'handlers (`<prefix>-handlers`)',
  deployer: '`DeployerRole` (the CLI)',
  scheduler: 'scheduler role',
  deploy: '`DeployAccessRole`',
  meta: '`MetaAccessRole`',
};

/**
 * What the CLI may call that the DeployerRole deliberately does not grant (README, "Permissions"),
 * each handled by the CLI: these must be denied, and are not a failure; any other deny is.
 */
export const DEPLOYER_NOT_GRANTED: Record<string, string> = {
  'sts:AssumeRole': "status's live weights: the workload DeployAccessRole trusts only the handlers; status says so and shows the ledger's view",
  'events:DescribeEventBus': 'replay is an operator\'s command (it re-sends the archive onto the bus)',
  'events:DescribeArchive': 'replay is an operator\'s command',
  'events:StartReplay': 'replay is an operator\'s command',
  'events:DescribeReplay': 'replay is an operator\'s command',
};

export interface ReplayResult {
  /** Requests the role that makes the call in AWS would be denied. */
  denied: string[];
  /** Requests of `DEPLOYER_NOT_GRANTED` that the DeployerRole would be allowed after all (the docs are wrong). */
  grantedAfterAll: string[];
  /** The permission table's rows (docs/INFRA.md). */
  rows: Set<string>;
}

export async function replay(calls: RecordedCall[], schedulerRoleArn: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const { cicd, workload, meta } = await templates(opts);
  // The helpers resolve a role's ARN in their one account: put each in the account of its stack.
  const role = (template: CfnTemplate, prefix: string, account: string, principal: Principal) => {
    const id = roleId(template, prefix);
    const tags = Object.fromEntries(((props(template.Resources[id]!).Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]));
    const arn = (resolve({ 'Fn::GetAtt': [id, 'Arn'] }, template) as string).replace(`:${ACCOUNT}:`, `:${account}:`);
    const identity = identityPolicies(template, id).map((doc) => ({
      ...doc,
      Statement: doc.Statement.filter((st) => opts.withoutStatement === undefined || (st as { Sid?: string }).Sid !== opts.withoutStatement),
    }));
    if (opts.extraStatement?.role === principal) identity.push({ Version: '2012-10-17', Statement: [opts.extraStatement.statement] });
    return { id, template, arn, identity, tags };
  };
  const roles: Record<Principal, ReturnType<typeof role>> = {
    handlers: role(cicd, 'DeployomatHandlerRole', ACCOUNT, 'handlers'),
    deployer: role(cicd, 'Deployer', ACCOUNT, 'deployer'),
    scheduler: role(cicd, 'DeployomatSchedulerRole', ACCOUNT, 'scheduler'),
    deploy: role(workload, 'DeployAccess', WORKLOAD_ACCOUNT, 'deploy'),
    meta: role(meta, 'MetaAccess', META_ACCOUNT, 'meta'),
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
  const grantedAfterAll: string[] = [];
  const rows = new Set<string>();
  for (const call of calls) {
    const caller = roles[call.principal];
    for (const request of iamRequests(call, accounts)) {
      const notGranted = call.principal === 'deployer' && request.action in DEPLOYER_NOT_GRANTED;
      if (!notGranted) rows.add(rowOf(call, request));
      const principalTags = Object.fromEntries(Object.entries({ ...caller.tags, ...call.sessionTags }).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]));
      const context = { ...principalTags, ...request.context, 'aws:PrincipalArn': caller.arn, 'aws:RequestedRegion': accounts.region };
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
      const line = `${call.principal} ${call.service}:${call.operation} → ${request.action} on ${resource}: ${decision} (${request.why})`;
      if (notGranted && decision === 'Allowed') grantedAfterAll.push(line);
      else if (!notGranted && decision !== 'Allowed') denied.push(line);
    }
  }
  return { denied: [...new Set(denied)], grantedAfterAll: [...new Set(grantedAfterAll)], rows };
}

