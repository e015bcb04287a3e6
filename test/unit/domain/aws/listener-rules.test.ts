import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  DeleteRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { planRules, restoreRules } from '../../../../domain/aws/listener-rules';
import { DeployFailure } from '../../../../domain/errors';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
const LISTENER = 'arn:listener/1';
const [HTTP_T, GRPC_T, HTTP_P, GRPC_P, HTTP_N, GRPC_N] = ['tg/http-template', 'tg/grpc-template', 'tg/http-prod', 'tg/grpc-prod', 'tg/http-new', 'tg/grpc-new'];

const rule = (arn: string, priority: string, targets: [string, number][]): Rule => ({
  RuleArn: arn,
  Priority: priority,
  IsDefault: false,
  Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: targets.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })) } }],
});
const defaultRule: Rule = { RuleArn: 'rule/default', Priority: 'default', IsDefault: true, Actions: [{ Type: 'fixed-response' }] };

beforeEach(() => {
  elbMock.reset();
  elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ Tags: [] }] });
});

describe('Function: planRules', () => {
  it('plans one live rule per exemplar, for every template target group', async () => {
    elbMock.on(DescribeRulesCommand).resolves({
      Rules: [
        defaultRule,
        rule('rule/http-live', '10', [[HTTP_P, 1]]),
        rule('rule/http-ex', '40010', [[HTTP_T, 1]]),
        rule('rule/grpc-ex', '40011', [[GRPC_T, 1]]),
      ],
    });

    const plan = await planRules(elb, { listenerArns: [LISTENER], templateTargetGroupArns: [HTTP_T, GRPC_T] });

    expect(plan).toEqual([
      { listenerArn: LISTENER, exemplarRuleArn: 'rule/http-ex', templateTargetGroupArn: HTTP_T, priority: 10, action: 'shift', liveRuleArn: 'rule/http-live', productionTargetGroupArn: HTTP_P },
      { listenerArn: LISTENER, exemplarRuleArn: 'rule/grpc-ex', templateTargetGroupArn: GRPC_T, priority: 11, action: 'create' },
    ]);
    expect(elbMock.commandCalls(ModifyRuleCommand)).toHaveLength(0);
  });

  it("recognises its own new target group at weight 0 on a redelivery: production is the other one", async () => {
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [rule('rule/http-live', '10', [[HTTP_P, 100], [HTTP_N, 0]]), rule('rule/http-ex', '40010', [[HTTP_T, 1]])] });

    const plan = await planRules(elb, { listenerArns: [LISTENER], templateTargetGroupArns: [HTTP_T], deploy: { deployId: 'd-1', newTargetGroupArns: [HTTP_N] } });

    expect(plan[0]).toMatchObject({ action: 'shift', productionTargetGroupArn: HTTP_P });
  });

  it.each([
    ['no exemplar on a listener', [rule('rule/other', '5', [['tg/other', 1]])], /No exemplar rule on listener arn:listener\/1 forwards to the template target groups/],
    ['an exemplar forwarding to two template groups', [rule('rule/ex', '40010', [[HTTP_T, 1], [GRPC_T, 1]])], /forwards to 2 template target groups/],
    ['an exemplar below priority 40001', [rule('rule/ex', '40000', [[HTTP_T, 1]])], /must be the wanted priority \+ 40000/],
    ['a live rule already split between two groups', [rule('rule/live', '10', [[HTTP_P, 50], ['tg/stranger', 50]]), rule('rule/ex', '40010', [[HTTP_T, 1]])], /forwards to 2 target groups; expected exactly one production/],
  ])('fails the deploy for %s', async (_case, rules, message) => {
    elbMock.on(DescribeRulesCommand).resolves({ Rules: rules });
    const planning = planRules(elb, { listenerArns: [LISTENER], templateTargetGroupArns: [HTTP_T, GRPC_T] });
    await expect(planning).rejects.toThrow(DeployFailure);
    await expect(planning).rejects.toThrow(message);
  });
});

describe('Function: restoreRules', () => {
  it('puts split rules back on their production group, coalesced ones on the recorded production, and deletes only rules the deploy created', async () => {
    elbMock.on(DescribeRulesCommand).resolves({
      Rules: [
        defaultRule,
        rule('rule/http-live', '10', [[HTTP_P, 70], [HTTP_N, 30]]),
        rule('rule/grpc-live', '11', [[GRPC_N, 100]]),
        rule('rule/new-only', '12', [['tg/extra-new', 100]]),
        rule('rule/untouched', '13', [['tg/unrelated', 1]]),
        // Someone else's rule pointed at the deploy's group: not the deploy's to delete.
        rule('rule/foreign', '14', [['tg/extra-new', 100]]),
      ],
    });
    elbMock.on(ModifyRuleCommand).resolves({});
    elbMock.on(DeleteRuleCommand).resolves({});
    const production: Record<string, string> = { [GRPC_N]: GRPC_P };

    const result = await restoreRules(elb, {
      listenerArns: [LISTENER],
      deployingTargetGroupArns: [HTTP_N, GRPC_N, 'tg/extra-new'],
      productionOf: (arn) => production[arn],
      createdByDeploy: async (arn) => arn === 'rule/new-only',
    });

    expect(result).toEqual({ restored: ['rule/http-live', 'rule/grpc-live'], deleted: ['rule/new-only'] });
    const modified = elbMock.commandCalls(ModifyRuleCommand).map((c) => [c.args[0].input.RuleArn, c.args[0].input.Actions?.at(-1)?.ForwardConfig?.TargetGroups]);
    expect(modified).toEqual([
      ['rule/http-live', [{ TargetGroupArn: HTTP_P, Weight: 100 }]],
      ['rule/grpc-live', [{ TargetGroupArn: GRPC_P, Weight: 100 }]],
    ]);
  });
});
