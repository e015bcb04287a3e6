import { describe, expect, it } from 'vitest';
import { cronTime, decideImport, IMPORT_FENCE, isDeployAsgName, originalUndeployRuleName, splitOriginalId, type ImportFacts } from '../../../domain/original';

const NOW = new Date('2026-12-08T00:00:00Z');
const TG = 'arn:aws:elasticloadbalancing:us-east-1:222222222222:targetgroup/web-20260101T100000Z/abc';
const facts = (over: Partial<ImportFacts> = {}): ImportFacts => ({
  item: { id: 'acme.web', deploy_id: 'd1', deploy_asg_name: '', production_asg_name: 'web-20260101T100000Z', undeploy_state: 'allow' },
  ledger: 'none',
  asg: { name: 'web-20260101T100000Z', targetGroupArns: [TG] },
  web: true,
  liveRules: [{ ruleArn: 'rule/1', targets: [{ arn: TG, weight: 100 }] }],
  ...over,
});

describe('Function: decideImport', () => {
  it('imports a service at rest, with its target groups, live rules and undeploy safety', () => {
    expect(decideImport(facts(), NOW)).toEqual({
      kind: 'import',
      productionAsgName: 'web-20260101T100000Z',
      targetGroupArns: [TG],
      ruleArns: ['rule/1'],
      undeployState: 'allow',
      automaticUndeployAt: undefined,
      resumed: false,
    });
  });

  it.each([
    ['a deploy in progress', { item: { ...facts().item, deploy_asg_name: 'web-20260102T000000Z' } }, /a deploy is in progress/],
    ['an undeploy in progress', { item: { ...facts().item, undeploy_state: 'undeploying' } }, /an undeploy is in progress/],
    ['a group that is gone', { asg: undefined }, /is gone/],
    ['a rule split between two groups', { liveRules: [{ ruleArn: 'rule/1', targets: [{ arn: TG, weight: 50 }, { arn: 'other', weight: 50 }] }] }, /split between/],
    ['a rule forwarding elsewhere', { liveRules: [{ ruleArn: 'rule/1', targets: [{ arn: 'other', weight: 100 }] }] }, /not to web-20260101T100000Z's target group/],
    ['a web service without a live rule', { liveRules: [] }, /no live rule/],
    ['a service Deployomat already runs', { ledger: { phase: 'Completed', productionAsgName: 'web-20261201T000000Z' } }, /already runs it/],
    ['an automatic undeploy that is overdue', { undeployRule: { name: 'acme.web-undeploy', at: new Date('2026-12-07T00:00:00Z') } }, /was due at 2026-12-07T00:00:00.000Z/],
    ['an automatic undeploy it cannot read', { undeployRule: { name: 'acme.web-undeploy' } }, /does not read/],
  ] as const)('refuses %s', (_, over, reason) => {
    const d = decideImport(facts(over as Partial<ImportFacts>), NOW);
    expect(d.kind).toBe('refuse');
    expect(d.kind === 'refuse' && d.reasons.join('; ')).toMatch(reason);
  });

  it('has nothing to import without production, and keeps "no undeploy" as the original had it', () => {
    expect(decideImport(facts({ item: { id: 'acme.web', production_asg_name: '' } }), NOW).kind).toBe('nothing');
    expect(decideImport(facts({ item: { ...facts().item, undeploy_state: '' } }), NOW)).toMatchObject({ kind: 'import', undeployState: '' });
  });

  it('carries on an import fenced earlier, even once the ledger holds its production', () => {
    const item = { id: 'acme.web', deploy_asg_name: IMPORT_FENCE, production_asg_name: '', imported_production_asg_name: 'web-20260101T100000Z' };
    expect(decideImport(facts({ item, ledger: { phase: 'Completed', productionAsgName: 'web-20260101T100000Z' } }), NOW)).toMatchObject({ kind: 'import', resumed: true });
    expect(decideImport(facts({ item, ledger: { phase: 'Shifting', productionAsgName: 'web-20260101T100000Z' } }), NOW).kind).toBe('refuse');
  });

  it('moves an automatic undeploy still ahead', () => {
    const at = new Date('2026-12-10T12:30:00Z');
    expect(decideImport(facts({ undeployRule: { name: 'x', at } }), NOW)).toMatchObject({ kind: 'import', automaticUndeployAt: at });
  });
});

describe("Function: the original's names", () => {
  it('splits an id every way that gives valid names', () => {
    expect(splitOriginalId('acme-dev.web')).toEqual([{ AccountCanonicalSlug: 'acme-dev', ServiceName: 'web' }]);
    expect(splitOriginalId('acme.dev.web')).toEqual([
      { AccountCanonicalSlug: 'acme', ServiceName: 'dev.web' },
      { AccountCanonicalSlug: 'acme.dev', ServiceName: 'web' },
    ]);
    expect(splitOriginalId('nodot')).toEqual([]);
  });

  it('reads the one-shot cron of the undeploy rule, and nothing else', () => {
    expect(cronTime('cron(30 12 10 12 ? 2026)')).toEqual(new Date('2026-12-10T12:30:00Z'));
    expect(cronTime('cron(0 12 * * ? *)')).toBeUndefined();
    expect(cronTime('cron(0 0 31 2 ? 2026)')).toBeUndefined();
    expect(cronTime(undefined)).toBeUndefined();
  });

  it('knows a deploy group of a service by its name, and names the undeploy rule as the original', () => {
    expect(isDeployAsgName('web', 'web-20260101T100000Z')).toBe(true);
    expect(isDeployAsgName('web', 'web-template')).toBe(false);
    expect(isDeployAsgName('web', 'webapp-20260101T100000Z')).toBe(false);
    expect(originalUndeployRuleName({ AccountCanonicalSlug: 'a'.repeat(40), ServiceName: 'b'.repeat(40) })).toBe(`${'a'.repeat(40)}.${'b'.repeat(13)}-undeploy`);
  });
});
