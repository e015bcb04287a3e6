import { AttachLoadBalancerTargetGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateRuleCommand, CreateTargetGroupCommand, DeleteRuleCommand, DescribeRulesCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_TAG } from '../../domain/aws/tags';
import { seedService, workloadClients, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';

/**
 * Issue #12, finding 4, on the emulator: one service must not take another's traffic or delete
 * its resources. `billing`'s team owns a rule and a target group on the shared listener; `shop`
 * is deployed through Deployomat.
 */
describe("Another service's traffic and resources (emulator)", () => {
  const slug = 'acme-traffic';
  let t: TestDeployomat;
  let shop: SeededService;

  beforeAll(async () => {
    t = await startTestDeployomat({ slug });
    shop = await seedService(t.account, { service: 'shop', web: true, priority: 10, amis: ['shop-v1', 'shop-v2'] });
  });
  afterAll(async () => t?.stop());

  /** billing's own target group (made outside Deployomat, tagged as billing's). */
  async function billingTargetGroup(name: string) {
    const { elb } = await workloadClients();
    const tg = await elb.send(
      new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: t.account.vpcId, Tags: [{ Key: OWNER_TAG, Value: `${slug}/billing` }] }),
    );
    return tg.TargetGroups![0]!.TargetGroupArn!;
  }
  const exists = async (arn: string) => {
    const { elb } = await workloadClients();
    const all = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    return all.some((g) => g.TargetGroupArn === arn);
  };
  async function deploy(deployId: string, ami: string) {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'shop', AmiId: shop.amis[ami]!, DeployId: deployId, DeployConfig: FAST });
    return t.observer.outcome(deployId, 60_000);
  }

  it.each([
    ['tagged as billing\'s', true],
    ['untagged, forwarding to billing\'s target group', false],
  ])("rejects a deploy whose live-rule priority holds another service's rule (%s), and leaves that rule as it was", async (_what, tagged) => {
    // Prepare: billing's rule sits where shop's live rule would go (shop's exemplar priority − 40000).
    const { elb } = await workloadClients();
    const billingTg = await billingTargetGroup(tagged ? 'billing-a' : 'billing-b');
    const created = await elb.send(
      new CreateRuleCommand({
        ListenerArn: t.account.listenerArn,
        Priority: 10,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['billing.example.com'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: billingTg }],
        Tags: tagged ? [{ Key: OWNER_TAG, Value: `${slug}/billing` }] : undefined,
      }),
    );
    const billingRule = created.Rules![0]!.RuleArn!;

    // Act
    const outcome = await deploy(`take-${tagged}`, 'shop-v1');

    // Assess
    expect(outcome.detailType).toBe('DeployRejected');
    expect((outcome.detail.Reasons as string[]).join('\n')).toContain(`Rule ${billingRule} at priority 10`);
    const after = (await elb.send(new DescribeRulesCommand({ RuleArns: [billingRule] }))).Rules![0]!;
    expect(after.Actions).toEqual(created.Rules![0]!.Actions);
    await elb.send(new DeleteRuleCommand({ RuleArn: billingRule }));
  });

  it("never deletes a target group someone attached to production: neither at the finish nor at undeploy", async () => {
    // Prepare: shop in production; billing's target group attached to shop's production ASG.
    const { autoscaling } = await workloadClients();
    const first = await deploy('own-1', 'shop-v1');
    expect(first.detailType).toBe('DeployCompleted');
    const attached = await billingTargetGroup('billing-c');
    await autoscaling.send(new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: first.detail.AsgName as string, TargetGroupARNs: [attached] }));

    // Act: the next deploy replaces that production ASG; then the new production gets one too, and is undeployed.
    const second = await deploy('own-2', 'shop-v2');
    const survivedFinish = await exists(attached);
    await autoscaling.send(new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: second.detail.AsgName as string, TargetGroupARNs: [attached] }));
    const undeployId = await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: 'shop' });
    const undeployed = await t.observer.undeployOutcome(undeployId, 60_000);

    // Assess
    expect(second.detailType).toBe('DeployCompleted');
    expect(survivedFinish).toBe(true);
    expect(undeployed.detailType).toBe('UndeployCompleted');
    expect(undeployed.detail.DeletedTargetGroupArns).not.toContain(attached);
    expect(await exists(attached)).toBe(true);
  });
});
