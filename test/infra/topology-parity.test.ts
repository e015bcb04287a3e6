import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateScheduleGroupCommand, ListScheduleGroupsCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreHandlers, resourceNames, rules } from '../../events/topology';
import { Deployomat } from '../../infra/cdk';
import { provision } from '../../infra/local/provision';
import { ACCOUNT, newApp, newStack, props, refId, REGION, resolve, resourcesOf, type CfnTemplate } from './helpers';

/**
 * The CDK stack and the local runtime are built from the same topology declaration: what the
 * local provisioning creates (captured from its SDK calls) is what the template declares — rule
 * names and patterns, queues and their redrive, the handlers' environment — and both equal what
 * events/topology.ts says.
 */
const PREFIX = 'parity';

let template: CfnTemplate;
const local = {
  rules: new Map<string, unknown>(),
  ruleTargets: new Map<string, string>(),
  queues: new Map<string, Record<string, string>>(),
  env: {} as Record<string, string>,
};
const events = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBClient);
const scheduler = mockClient(SchedulerClient);

beforeAll(async () => {
  const stack = newStack(newApp(), 'Parity');
  new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme', prefix: PREFIX });
  template = Template.fromStack(stack).toJSON() as CfnTemplate;

  events.on(CreateEventBusCommand).resolves({}).on(CreateArchiveCommand).resolves({});
  events.on(PutRuleCommand).callsFake((input: { Name: string; EventPattern?: string }) => {
    local.rules.set(input.Name, JSON.parse(input.EventPattern ?? 'null'));
    return {};
  });
  events.on(PutTargetsCommand).callsFake((input: { Rule: string; Targets?: { Arn?: string }[] }) => {
    local.ruleTargets.set(input.Rule, input.Targets?.[0]?.Arn ?? '');
    return {};
  });
  sqs.on(CreateQueueCommand).callsFake((input: { QueueName: string; Attributes?: Partial<Record<string, string>> }) => {
    local.queues.set(input.QueueName, (input.Attributes ?? {}) as Record<string, string>);
    return { QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${input.QueueName}` };
  });
  sqs.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl?: string }) => ({
    Attributes: { QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${input.QueueUrl?.split('/').pop()}` },
  }));
  dynamo.on(CreateTableCommand).resolves({});
  scheduler.on(ListScheduleGroupsCommand).resolves({ ScheduleGroups: [] }).on(CreateScheduleGroupCommand).resolves({});

  local.env = (await provision({ prefix: PREFIX, region: REGION, accountId: ACCOUNT })).env;
});

afterAll(() => {
  for (const mock of [events, sqs, dynamo, scheduler]) mock.restore();
});

const cloudRules = () =>
  new Map(resourcesOf(template, 'AWS::Events::Rule').map(([, r]) => [props(r).Name as string, props(r).EventPattern]));

describe('Topology: the stack and the local runtime', () => {
  it('declare the same rules with the same patterns, those of the topology', () => {
    // Both install the core (the local runtime adds a feature only when its environment asks for it).
    const declared = new Map(rules(resourceNames(PREFIX), coreHandlers()).map((r) => [r.name, r.pattern]));
    expect(declared.size).toBeGreaterThan(0);
    expect(cloudRules()).toEqual(declared);
    expect(local.rules).toEqual(declared);
  });

  it('route each rule to the same queue', () => {
    const cloud = new Map(
      resourcesOf(template, 'AWS::Events::Rule').map(([, r]) => {
        const [target] = props(r).Targets as { Arn: unknown }[];
        return [props(r).Name as string, resolve(target!.Arn, template) as string];
      }),
    );
    expect(cloud).toEqual(local.ruleTargets);
  });

  it('create the same queues with the same visibility and redrive', () => {
    const cloud = new Map(
      resourcesOf(template, 'AWS::SQS::Queue').map(([, q]) => {
        const p = props(q);
        const redrive = p.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number } | undefined;
        return [
          p.QueueName as string,
          {
            redrive: redrive && { dlq: resolve({ 'Fn::GetAtt': [refId(redrive.deadLetterTargetArn), 'QueueName'] }, template), max: redrive.maxReceiveCount },
            visibility: redrive ? p.VisibilityTimeout : undefined,
          },
        ];
      }),
    );
    const localQueues = new Map(
      [...local.queues].map(([name, attributes]) => {
        const redrive = attributes.RedrivePolicy ? JSON.parse(attributes.RedrivePolicy) : undefined;
        return [
          name,
          {
            redrive: redrive && { dlq: String(redrive.deadLetterTargetArn).split(':').pop(), max: redrive.maxReceiveCount },
            visibility: attributes.VisibilityTimeout === undefined ? undefined : Number(attributes.VisibilityTimeout),
          },
        ];
      }),
    );
    expect(cloud).toEqual(localQueues);
  });

  it('run one function per handler of the topology', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function').map(([, f]) => props(f).FunctionName);
    expect(functions.sort()).toEqual(coreHandlers().map((h) => `${PREFIX}-${h.name}`).sort());
  });

  it('give the handlers the same configuration, which the stack completes', () => {
    for (const [, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      const cloudEnv = resolve((props(fn).Environment as { Variables: unknown }).Variables, template) as Record<string, string>;
      for (const [key, value] of Object.entries(local.env)) {
        // The local scheduler role is a placeholder ARN (moto does not enforce IAM).
        if (key === 'DEPLOYOMAT_SCHEDULER_ROLE_ARN') expect(cloudEnv[key]).toMatch(/^arn:aws:iam::111111111111:role\//);
        else expect(cloudEnv[key], key).toBe(value);
      }
    }
  });
});
