import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourceNames } from '../../events/topology';
import { DeployerRole, Deployomat } from '../../infra/cdk';
import {
  ACCOUNT,
  identityPolicies,
  newApp,
  newStack,
  props,
  refId,
  REGION,
  resolve,
  resourcesOf,
  roleId,
  simulate,
  trustPolicy,
  type CfnResource,
  type CfnTemplate,
  type PolicyDocument,
} from './helpers';

/**
 * Issue #12, finding 11 (audit integrity) and the IAM parts of finding 12, each attack performed
 * against the synthesized policies with the IAM simulator (intrinsics resolved). Each failed on
 * the templates before its fix. Keys the simulator cannot derive are passed in the context
 * explicitly; a negated operator holds when its key is missing, so those cases are tried too.
 */
const ORG = 'acme';
const ORG_ID = 'o-abcdefghij';
const USERS = '222222222222';
const WORKLOAD = '444444444444';
const META_ROLE = 'arn:aws:iam::333333333333:role/DeployomatParameterAccess';
const names = resourceNames();
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${names.bus}`;
const allowAll: PolicyDocument[] = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];

let cicd: CfnTemplate;
let inOrg: CfnTemplate;
let ownKey: CfnTemplate;

beforeAll(() => {
  const app = newApp();
  const cicdStack = newStack(app, 'CiCd');
  const deployomat = new Deployomat(cicdStack, 'Deployomat', { environment: 'development', organizationPrefix: ORG });
  new DeployerRole(cicdStack, 'Deployer', { deployomat, userAccountIds: [USERS] });

  // An organization id, a meta role, the audit trail, and a deployer role without source identity.
  const inOrgStack = newStack(app, 'InOrg');
  const d2 = new Deployomat(inOrgStack, 'Deployomat', {
    environment: 'development',
    organizationPrefix: ORG,
    organizationId: ORG_ID,
    metaRoleArn: META_ROLE,
    auditTrail: true,
  });
  new DeployerRole(inOrgStack, 'Deployer', { deployomat: d2, userAccountIds: [USERS], requireSourceIdentity: false });

  const ownKeyStack = newStack(app, 'OwnKey');
  const key = new kms.Key(ownKeyStack, 'MyKey', { enableKeyRotation: true });
  const d3 = new Deployomat(ownKeyStack, 'Deployomat', { environment: 'development', organizationPrefix: ORG, encryptionKey: key, auditTrail: true });
  new DeployerRole(ownKeyStack, 'Deployer', { deployomat: d3, userAccountIds: [USERS] });

  const synth = (stack: Parameters<typeof Template.fromStack>[0]) => Template.fromStack(stack).toJSON() as CfnTemplate;
  [cicd, inOrg, ownKey] = [cicdStack, inOrgStack, ownKeyStack].map(synth) as [CfnTemplate, CfnTemplate, CfnTemplate];
});

const arnOf = (template: CfnTemplate, id: string) => resolve({ 'Fn::GetAtt': [id, 'Arn'] }, template) as string;

describe('Finding 11: the DeployerRole requires a source identity', () => {
  const deployer = (template: CfnTemplate) => roleId(template, 'Deployer');
  const assume = (template: CfnTemplate, action: 'sts:AssumeRole' | 'sts:SetSourceIdentity', context: Record<string, string> = {}) =>
    simulate({
      principal: `arn:aws:iam::${USERS}:role/ci`,
      action,
      resource: arnOf(template, deployer(template)),
      identity: allowAll,
      resourcePolicy: trustPolicy(template, deployer(template)),
      context: { 'aws:PrincipalArn': `arn:aws:iam::${USERS}:role/ci`, ...context },
    });

  it('refuses a user-account principal that assumes it without a source identity', async () => {
    expect(await assume(cicd, 'sts:AssumeRole')).not.toBe('Allowed');
  });

  it('lets it assume the role with a source identity, and set it (positive control)', async () => {
    expect(await assume(cicd, 'sts:AssumeRole', { 'sts:SourceIdentity': 'alice' })).toBe('Allowed');
    expect(await assume(cicd, 'sts:SetSourceIdentity', { 'sts:SourceIdentity': 'alice' })).toBe('Allowed');
  });

  it('still trusts only the user accounts', async () => {
    const outsider = await simulate({
      principal: 'arn:aws:iam::999999999999:role/ci',
      action: 'sts:SetSourceIdentity',
      resource: arnOf(cicd, deployer(cicd)),
      identity: allowAll,
      resourcePolicy: trustPolicy(cicd, deployer(cicd)),
      context: { 'aws:PrincipalArn': 'arn:aws:iam::999999999999:role/ci', 'sts:SourceIdentity': 'alice' },
      resourceAccount: ACCOUNT,
    });
    expect(outsider).not.toBe('Allowed');
  });

  it('requireSourceIdentity: false trusts sessions without one again (the opt-out), and still lets them set one', async () => {
    expect(await assume(inOrg, 'sts:AssumeRole')).toBe('Allowed');
    expect(await assume(inOrg, 'sts:SetSourceIdentity', { 'sts:SourceIdentity': 'alice' })).toBe('Allowed');
  });
});

describe('Finding 11: CloudTrail records who publishes to the bus (auditTrail)', () => {
  const trails = (template: CfnTemplate) => resourcesOf(template, 'AWS::CloudTrail::Trail');
  const TRAIL = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${names.bus}-bus-audit`;

  it('logs every PutEvents call on the bus as a data event, and nothing else', () => {
    expect(trails(cicd), 'off by default: data events are charged').toEqual([]);
    const [[, trail]] = trails(inOrg) as [[string, CfnResource]];
    const p = resolve(props(trail), inOrg) as Record<string, unknown>;
    expect(p).toMatchObject({
      TrailName: `${names.bus}-bus-audit`,
      IsLogging: true,
      EnableLogFileValidation: true,
      IsMultiRegionTrail: false,
      IncludeGlobalServiceEvents: false,
      AdvancedEventSelectors: [
        {
          FieldSelectors: expect.arrayContaining([
            { Field: 'eventCategory', Equals: ['Data'] },
            { Field: 'resources.type', Equals: ['AWS::Events::EventBus'] },
            { Field: 'resources.ARN', Equals: [BUS] },
            { Field: 'eventName', Equals: ['PutEvents'] },
          ]),
        },
      ],
    });
    expect((p.AdvancedEventSelectors as { FieldSelectors: unknown[] }[])[0]!.FieldSelectors).toHaveLength(4);
    expect(p.EventSelectors).toBeUndefined();
  });

  /** The trail bucket's name (a generated one resolves to its logical id) and policy. */
  const bucket = (template: CfnTemplate) => {
    const [[, trail]] = trails(template) as [[string, CfnResource]];
    const bucketId = refId(props(trail).S3BucketName)!;
    const [[, policy]] = resourcesOf(template, 'AWS::S3::BucketPolicy').filter(([, p]) => refId(props(p).Bucket) === bucketId) as [[string, CfnResource]];
    return { name: resolve({ Ref: bucketId }, template) as string, policy: resolve(props(policy).PolicyDocument, template) as PolicyDocument };
  };
  const put = (template: CfnTemplate, principal: string, context: Record<string, string>, identity: PolicyDocument[] = []) => {
    const { name, policy } = bucket(template);
    return simulate({
      principal,
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${name}/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2026/11/26/x.json.gz`,
      identity,
      resourcePolicy: policy,
      context: { 'aws:SecureTransport': 'true', 's3:x-amz-acl': 'bucket-owner-full-control', ...context },
    });
  };

  it('takes log files from this trail only: not another trail (confused deputy), not a role planting forged logs', async () => {
    const cloudtrail = { 'aws:PrincipalServiceName': 'cloudtrail.amazonaws.com', 'aws:SourceAccount': ACCOUNT };
    expect(await put(inOrg, 'cloudtrail.amazonaws.com', { ...cloudtrail, 'aws:SourceArn': TRAIL })).toBe('Allowed');
    expect(await put(inOrg, 'cloudtrail.amazonaws.com', { ...cloudtrail, 'aws:SourceArn': `arn:aws:cloudtrail:${REGION}:999999999999:trail/other` })).not.toBe('Allowed');
    const admin = `arn:aws:iam::${ACCOUNT}:role/Administrator`;
    expect(await put(inOrg, admin, { 'aws:PrincipalArn': admin }, allowAll)).toBe('ExplicitlyDenied');
  });

  it('delivers to a bucket you keep, adding only what the trail needs to write there', () => {
    const stack = newStack(newApp(), 'OwnBucket');
    const logs = new s3.Bucket(stack, 'CentralLogs', { enforceSSL: true });
    new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: ORG, encryptionKey: 'aws-owned', auditTrail: { bucket: logs } });
    const t = Template.fromStack(stack).toJSON() as CfnTemplate;
    expect(resourcesOf(t, 'AWS::S3::Bucket').map(([id]) => id)).toEqual([expect.stringMatching(/^CentralLogs/)]);
    const [[, trail]] = resourcesOf(t, 'AWS::CloudTrail::Trail') as [[string, CfnResource]];
    expect(refId(props(trail).S3BucketName)).toMatch(/^CentralLogs/);
    expect(props(trail).KMSKeyId).toBeUndefined();
    const [[, policy]] = resourcesOf(t, 'AWS::S3::BucketPolicy') as [[string, CfnResource]];
    const sids = (props(policy).PolicyDocument as PolicyDocument).Statement.map((st) => st.Sid).filter(Boolean);
    expect(sids).toEqual(['TrailChecksAcl', 'TrailWritesLogFiles']);
  });

  it('lets nobody delete a log file through the bucket', async () => {
    const { name, policy } = bucket(inOrg);
    const admin = `arn:aws:iam::${ACCOUNT}:role/Administrator`;
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion']) {
      const decision = await simulate({
        principal: admin,
        action,
        resource: `arn:aws:s3:::${name}/AWSLogs/${ACCOUNT}/CloudTrail/x.json.gz`,
        identity: allowAll,
        resourcePolicy: policy,
        context: { 'aws:PrincipalArn': admin, 'aws:SecureTransport': 'true' },
      });
      expect(decision, action).toBe('ExplicitlyDenied');
    }
  });
});

describe('Finding 12: cross-account assumes stay in the organization when an organizationId is given', () => {
  // The handlers' identity policy alone (the trusting roles' side is in trust.test.ts): the
  // simulator takes the resource as same-account, so no trust policy is needed to see its answer.
  const assume = (template: CfnTemplate, role: string, context: Record<string, string | string[]>) =>
    simulate({
      principal: `arn:aws:iam::${ACCOUNT}:role/${names.handlerRole}`,
      action: 'sts:AssumeRole',
      resource: role,
      identity: identityPolicies(template, roleId(template, 'DeployomatHandlerRole')),
      context: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/${names.handlerRole}`, ...context },
    });
  const workloadRole = `arn:aws:iam::${WORKLOAD}:role/DeployomatDeployAccess`;
  const tagged = { 'aws:ResourceTag/Service': 'deployomat', 'aws:ResourceTag/Environment': 'development', 'aws:PrincipalTag/Environment': 'development' };
  const metaSession = { 'aws:PrincipalTag/Environment': 'development', 'aws:RequestTag/Environment': 'development', 'sts:TransitiveTagKeys': ['Environment'] };

  it('refuses a tagged workload role in an account outside the organization', async () => {
    expect(await assume(inOrg, workloadRole, { ...tagged, 'aws:ResourceOrgID': 'o-zzzzzzzzzz' })).not.toBe('Allowed');
    expect(await assume(inOrg, workloadRole, tagged)).not.toBe('Allowed');
    expect(await assume(inOrg, workloadRole, { ...tagged, 'aws:ResourceOrgID': ORG_ID })).toBe('Allowed');
  });

  it('refuses a meta role outside the organization', async () => {
    expect(await assume(inOrg, META_ROLE, { ...metaSession, 'aws:ResourceOrgID': 'o-zzzzzzzzzz' })).not.toBe('Allowed');
    expect(await assume(inOrg, META_ROLE, { ...metaSession, 'aws:ResourceOrgID': ORG_ID })).toBe('Allowed');
  });

  it('without an organizationId, assumes tagged roles in any account, as before (positive control)', async () => {
    expect(await assume(cicd, workloadRole, { ...tagged, 'aws:ResourceOrgID': 'o-zzzzzzzzzz' })).toBe('Allowed');
  });

  it('rejects an organizationId that is not one', () => {
    const stack = newStack(newApp(), 'BadOrg');
    expect(() => new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: ORG, organizationId: 'acme' })).toThrow(
      'organizationId must be an AWS Organizations id, o- and 10-32 lowercase letters or digits (got "acme")',
    );
  });
});

describe("Finding 12: the DeployerRole's temporary rules target its own temporary queues only", () => {
  const rule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/${names.bus}/${names.bus}-cli-abc12345`;
  const putTargets = (targets?: string[]) =>
    simulate({
      principal: arnOf(cicd, roleId(cicd, 'Deployer')),
      action: 'events:PutTargets',
      resource: rule,
      identity: identityPolicies(cicd, roleId(cicd, 'Deployer')),
      context: targets ? { 'events:TargetArn': targets } : {},
    });

  it('lets the CLI point its rule at its own <bus>-cli-* queue (positive control)', async () => {
    expect(await putTargets([`arn:aws:sqs:${REGION}:${ACCOUNT}:${names.bus}-cli-abc12345`])).toBe('Allowed');
  });

  it.each([
    ['a queue in another account (exfiltration)', `arn:aws:sqs:${REGION}:999999999999:${names.bus}-cli-abc12345`],
    ['a handler queue', `arn:aws:sqs:${REGION}:${ACCOUNT}:${names.queue('start-deploy')}`],
    ['a Lambda function', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:anything`],
    ['another event bus', `arn:aws:events:${REGION}:999999999999:event-bus/default`],
  ])('refuses a target that is %s', async (_, target) => {
    expect(await putTargets([target])).not.toBe('Allowed');
    expect(await putTargets([`arn:aws:sqs:${REGION}:${ACCOUNT}:${names.bus}-cli-abc12345`, target])).not.toBe('Allowed');
  });

  it('refuses a PutTargets whose targets the request does not say', async () => {
    expect(await putTargets()).not.toBe('Allowed');
  });
});

describe('Finding 12: encryption on by default, with the installation key everywhere a key is offered', () => {
  /** The logical id of the one customer managed key each store must use. */
  const keyIds = (template: CfnTemplate) => resourcesOf(template, 'AWS::KMS::Key').map(([id]) => id);
  const keyOf = (value: unknown) => refId(value);
  const stores = (template: CfnTemplate) => ({
    queues: resourcesOf(template, 'AWS::SQS::Queue').map(([id, q]) => [id, keyOf(props(q).KmsMasterKeyId)]),
    table: resourcesOf(template, 'AWS::DynamoDB::Table').map(([id, t]) => [id, keyOf((props(t).SSESpecification as { KMSMasterKeyId?: unknown } | undefined)?.KMSMasterKeyId)]),
    bus: resourcesOf(template, 'AWS::Events::EventBus').map(([id, b]) => [id, keyOf(props(b).KmsKeyIdentifier)]),
    archive: resourcesOf(template, 'AWS::Events::Archive').map(([id, a]) => [id, keyOf(props(a).KmsKeyIdentifier)]),
    logGroups: resourcesOf(template, 'AWS::Logs::LogGroup').map(([id, g]) => [id, keyOf(props(g).KmsKeyId)]),
    trail: resourcesOf(template, 'AWS::CloudTrail::Trail').map(([id, t]) => [id, keyOf(props(t).KMSKeyId)]),
  });
  const allUse = (template: CfnTemplate, key: string) => {
    const s = stores(template);
    for (const [what, list] of Object.entries(s)) for (const [id, used] of list) expect(used, `${what} ${id}`).toBe(key);
    return s;
  };

  it('creates a customer managed key (rotated) when none is given, and encrypts every store with it', () => {
    const [key] = keyIds(cicd);
    expect(keyIds(cicd)).toHaveLength(1);
    expect(props(cicd.Resources[key!]!).EnableKeyRotation).toBe(true);
    const s = allUse(cicd, key!);
    expect(s.queues.length).toBeGreaterThan(10);
    expect(s.logGroups.length).toBeGreaterThan(10);
  });

  it('uses the given key everywhere, the audit trail too, and creates none', () => {
    expect(keyIds(ownKey)).toEqual([expect.stringMatching(/^MyKey/)]);
    const s = allUse(ownKey, keyIds(ownKey)[0]!);
    expect(s.trail).toHaveLength(1);
  });

  it("lets the DeployerRole read history from the encrypted ledger (a read needs the table's key)", async () => {
    const [keyId] = keyIds(cicd);
    // KMS asks the key policy too: it lets the account's IAM policies decide (CDK's default).
    const decrypt = (context: Record<string, string>) =>
      simulate({
        principal: arnOf(cicd, roleId(cicd, 'Deployer')),
        action: 'kms:Decrypt',
        resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`,
        identity: identityPolicies(cicd, roleId(cicd, 'Deployer')),
        resourcePolicy: resolve(props(cicd.Resources[keyId!]!).KeyPolicy, cicd) as PolicyDocument,
        context,
      });
    expect(await decrypt({ 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com` })).toBe('Allowed');
    // Through DynamoDB only: not the handler queues' messages, not anything else under the key.
    expect(await decrypt({ 'kms:ViaService': `sqs.${REGION}.amazonaws.com` })).not.toBe('Allowed');
    expect(await decrypt({})).not.toBe('Allowed');
  });

  it("encryptionKey: 'aws-owned' keeps each service's own encryption, still on (the opt-out)", () => {
    const stack = newStack(newApp(), 'AwsOwned');
    new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: ORG, encryptionKey: 'aws-owned' });
    const awsOwned = Template.fromStack(stack).toJSON() as CfnTemplate;
    expect(keyIds(awsOwned)).toEqual([]);
    for (const [id, q] of resourcesOf(awsOwned, 'AWS::SQS::Queue')) expect(props(q).SqsManagedSseEnabled, id).toBe(true);
  });
});
