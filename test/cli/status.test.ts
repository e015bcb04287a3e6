import { DescribeRulesCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerLines } from '../../cli/commands/status';
import { heldOf, pausedOf } from '../../cli/ledger';
import { DeployConfig } from '../../events/client';
import type { ServiceState } from '../../domain/ledger';
import { cli } from './run-cli';

/** What `status` says about a running rollout, from the ledger alone (no AWS). */

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const state = (over: Partial<ServiceState>, config: Partial<DeployConfig> = {}): ServiceState => ({
  AccountCanonicalSlug: 'acme',
  ServiceName: 'shop',
  ActiveDeployId: 'shop-2',
  Phase: 'Shifting',
  Seq: 4,
  DeployAsgName: 'shop-new',
  ProductionAsgName: 'shop-old',
  UndeployState: 'allow',
  Request: {
    DeployId: 'shop-2',
    AmiId: 'ami-1',
    Config: DeployConfig.parse({ TrafficShiftPerStep: 20, ...config }),
    StartedAt: ago(60),
    Timestamp: '20260101T000000Z',
    RoleArn: 'arn:aws:iam::2:role/x',
    Org: 'acme',
    ListenerArns: ['l'],
  },
  Plan: {
    RoleArn: 'arn:aws:iam::2:role/x',
    Org: 'acme',
    AllowUndeploy: true,
    ResolvedAmiId: 'ami-1',
    LaunchTemplateId: 'lt',
    LaunchTemplateVersion: 2,
    AsgName: 'shop-new',
    TargetGroups: [{ Template: 'tpl', Arn: 'tg-new', Production: 'tg-old' }],
    MinSize: 4,
    MaxSize: 4,
    SteadyMinSize: 2,
    ProductionAsgName: 'shop-old',
    ProductionTargetGroupArns: ['tg-old'],
    Rollout: 'web',
    Rules: [],
    HealthDeadline: ago(-300),
    Steps: 5,
  },
  Outbox: [],
  OutboxCause: 'e',
  UpdatedAt: ago(1),
  ...over,
});

describe('status of a running rollout (from the ledger)', () => {
  it('shows a step held for capacity with the healthy targets read now', () => {
    const s = state({ Progress: { Step: 2, Percent: 40, HeldSince: ago(12) } });
    expect(heldOf(s)).toMatchObject({ step: 3, percent: 60 });
    const lines = ledgerLines(s, 2);
    expect(lines).toContain('progress    step 2/5, 40 % on the new version');
    expect(lines.find((l) => l.startsWith('holding'))).toMatch(/^holding {5}step 3 \(60 %\): 2\/3 healthy targets, 1[12] s \(since \S+Z\)$/);
    expect(ledgerLines(s).find((l) => l.startsWith('holding'))).toMatch(/step 3 \(60 %\): waiting for healthy targets/);
  });

  it('shows where, why and since when a rollout is paused, and when it rolls back', () => {
    const since = ago(30);
    const s = state(
      { Phase: 'Paused', Progress: { Step: 2, Percent: 40 }, Paused: { Since: since, FromPhase: 'Shifting', NextStep: 3, By: 'request', Reason: 'error rate up' } },
      { PauseTimeout: 600 },
    );
    expect(pausedOf(s)).toMatchObject({ step: 2, percent: 40, rollbackAt: Date.parse(since) + 600_000 });
    expect(ledgerLines(s)).toContain(
      `paused      at 40 % (after step 2) since ${since.replace(/\.\d{3}Z$/, 'Z')} (30 s ago), by request: error rate up; rolls back at ${new Date(Date.parse(since) + 600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')} unless resumed or promoted`,
    );
    expect(heldOf(s)).toBeUndefined();
    // At rest: no rollout lines.
    expect(ledgerLines(state({ Phase: 'Completed', Progress: { Step: 5, Percent: 100 } })).join('\n')).not.toMatch(/progress|paused|holding/);
  });

  it('shows when a pause without PauseTimeout rolls back: at the installation\'s maximum, as the ledger recorded it', () => {
    const since = ago(30);
    const rollbackAt = new Date(Date.parse(since) + 86_400_000).toISOString();
    const s = state({ Phase: 'Paused', Progress: { Step: 2, Percent: 40 }, Paused: { Since: since, FromPhase: 'Shifting', NextStep: 3, By: 'request', Reason: 'error rate up', RollbackAt: rollbackAt } });
    expect(pausedOf(s)).toMatchObject({ rollbackAt: Date.parse(rollbackAt) });
    expect(ledgerLines(s).join('\n')).toContain(`rolls back at ${rollbackAt.replace(/\.\d{3}Z$/, 'Z')} unless resumed or promoted`);
  });
});

describe('status of a running rollout (ledger + ALB, mocked)', () => {
  const db = mockClient(DynamoDBDocumentClient);
  const sts = mockClient(STSClient);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  afterEach(() => [db, sts, elb].forEach((m) => m.reset()));

  it('names a rule whose live weight is not the configured one, and counts the healthy targets of a held step', async () => {
    const s = state({ Progress: { Step: 2, Percent: 40, HeldSince: ago(5) } });
    s.Plan!.Rules = [{ listenerArn: 'l', ruleArn: 'rule-1', newTargetGroupArn: 'tg-new', productionTargetGroupArn: 'tg-old', actions: [] }];
    db.on(GetCommand).resolves({ Item: { pk: 'acme#shop', sk: 'SERVICE', ...s } });
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'A', SecretAccessKey: 'S', SessionToken: 'T', Expiration: new Date(Date.now() + 900_000) } });
    const forward = (old: number, next: number) => [{ Type: 'forward' as const, ForwardConfig: { TargetGroups: [{ TargetGroupArn: 'tg-old', Weight: old }, { TargetGroupArn: 'tg-new', Weight: next }] } }];
    elb.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: 'rule-1', Priority: '10', IsDefault: false, Actions: forward(65, 35) }] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'tg-old', TargetGroupName: 'shop-old' }, { TargetGroupArn: 'tg-new', TargetGroupName: 'shop-new' }] });
    const target = (state: 'healthy' | 'initial') => ({ TargetHealth: { State: state } });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [target('healthy'), target('healthy'), target('initial'), target('initial')] });

    const r = await cli(['--region', 'us-east-1', 'status', '--account', 'acme', '--service', 'shop']);

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('traffic     rule 10 on l: shop-old 65 %, shop-new 35 % (configured: 40 % new)');
    expect(r.stdout).toMatch(/holding {5}step 3 \(60 %\): 2\/3 healthy targets, [45] s/);
  });
});
