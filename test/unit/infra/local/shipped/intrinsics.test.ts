import { describe, expect, it } from 'vitest';
import { DEFAULT_HANDLER_RUNTIME } from '../../../../../infra/cdk/common';
import type { LocalInstallation } from '../../../../../infra/local/provision';
import { UnresolvableValueError } from '../../../../../infra/local/shipped/errors';
import { shippedFunctions } from '../../../../../infra/local/shipped/functions';
import { resolveValue } from '../../../../../infra/local/shipped/intrinsics';
import { LAMBDA_NODE_VERSION, nodeMajorOf } from '../../../../../infra/local/shipped/lambda-node';
import type { CfnTemplate, ShippedStack } from '../../../../../infra/local/shipped/stack';

const url = (name: string) => `http://127.0.0.1:5000/123456789012/${name}`;
const install: LocalInstallation = {
  prefix: 'deployomat',
  region: 'us-east-1',
  accountId: '123456789012',
  busName: 'deployomat',
  busArn: 'arn:aws:events:us-east-1:123456789012:event-bus/deployomat',
  tableName: 'deployomat-ledger',
  scheduleGroup: 'deployomat',
  schedulerRoleArn: 'arn:aws:iam::123456789012:role/deployomat-scheduler',
  queueUrls: { 'start-deploy': url('deployomat-start-deploy') },
  deadLetterQueueUrls: { 'start-deploy': url('deployomat-start-deploy-dlq') },
  timerQueueUrl: url('deployomat-relay-timer'),
  timerQueueArn: 'arn:aws:sqs:us-east-1:123456789012:deployomat-relay-timer',
  features: [],
  env: {},
};

/** A template shaped as CDK synthesizes the Deployomat stack, cut down to what the functions refer to. */
const template = (): CfnTemplate => ({
  Resources: {
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'deployomat' } },
    Ledger: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'deployomat-ledger' } },
    Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'deployomat-start-deploy' } },
    Dlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'deployomat-start-deploy-dlq' } },
    Group: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'deployomat' } },
    SchedulerRole: {
      Type: 'AWS::IAM::Role',
      Properties: { AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' } }] } },
    },
    HandlerRole: {
      Type: 'AWS::IAM::Role',
      Properties: { RoleName: 'deployomat-handlers', AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] } },
    },
    StartDeploy: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: 'deployomat-start-deploy',
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Timeout: 60,
        MemorySize: 512,
        Code: { S3Bucket: 'cdk-assets', S3Key: 'abc.zip' },
        Environment: { Variables: { DEPLOYOMAT_BUS_NAME: { Ref: 'Bus' }, DEPLOYOMAT_SCHEDULE_GROUP: 'deployomat' } },
      },
    },
    StartDeployMapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { FunctionName: { Ref: 'StartDeploy' }, EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, BatchSize: 1 },
    },
    DeadLetterMapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { FunctionName: { Ref: 'StartDeploy' }, EventSourceArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
    },
  },
});
const stackOf = (t: CfnTemplate): ShippedStack => ({ template: t, assetDirs: { 'abc.zip': '/assembly/asset.abc' } });
const resolve = (value: unknown, t = template()) => resolveValue(value, 'fn: VARIABLE', t, install);

describe('Function: resolveValue', () => {
  it.each([
    ['a literal', 'deployomat', 'deployomat'],
    ['a pseudo parameter', { Ref: 'AWS::Region' }, 'us-east-1'],
    ["the bus's name", { Ref: 'Bus' }, 'deployomat'],
    ["the bus's ARN", { 'Fn::GetAtt': ['Bus', 'Arn'] }, install.busArn],
    ["the ledger's name", { Ref: 'Ledger' }, 'deployomat-ledger'],
    ["a queue's URL", { Ref: 'Queue' }, url('deployomat-start-deploy')],
    ["a dead-letter queue's ARN", { 'Fn::GetAtt': ['Dlq', 'Arn'] }, 'arn:aws:sqs:us-east-1:123456789012:deployomat-start-deploy-dlq'],
    ["the schedule group's name", { Ref: 'Group' }, 'deployomat'],
    ["the scheduler role's ARN", { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] }, install.schedulerRoleArn],
    ['a join', { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, { Ref: 'AWS::AccountId' }]] }, 'arn:aws:123456789012'],
  ])('resolves %s to the local installation', (_what, value, expected) => {
    expect(resolve(value)).toBe(expected);
  });

  it.each([
    ['an intrinsic it does not evaluate', { 'Fn::ImportValue': 'ledger' }, 'fn: VARIABLE: Fn::ImportValue is not evaluated locally ({"Fn::ImportValue":"ledger"})'],
    ['a resource not in the template', { Ref: 'Nowhere' }, 'fn: VARIABLE: Nowhere is not a resource of the template'],
    ['an attribute it does not know', { 'Fn::GetAtt': ['Ledger', 'StreamArn'] }, 'fn: VARIABLE: StreamArn of Ledger (AWS::DynamoDB::Table) is not evaluated locally'],
    ['a role other than the scheduler role', { 'Fn::GetAtt': ['HandlerRole', 'Arn'] }, expect.stringContaining('fn: VARIABLE: HandlerRole is not the scheduler role')],
  ])('throws on %s, naming where it is used', (_what, value, message) => {
    expect(() => resolve(value)).toThrow(UnresolvableValueError);
    expect(() => resolve(value)).toThrow(expect.objectContaining({ message }));
  });

  it.each([
    ['a bus', 'Bus', 'Name', 'other-bus', "fn: VARIABLE: the template's bus other-bus (Bus) is not the local installation's (deployomat)"],
    ['a queue', 'Queue', 'QueueName', 'other-queue', "fn: VARIABLE: the template's queue other-queue is not a queue of the local installation"],
    ['a table without a name', 'Ledger', 'TableName', undefined, 'fn: VARIABLE: Ledger (AWS::DynamoDB::Table) has no TableName: nothing to match it to locally'],
  ])('throws on %s the installation does not have, never matching another', (_what, id, key, name, message) => {
    const t = template();
    t.Resources[id]!.Properties![key] = name;

    expect(() => resolve({ 'Fn::GetAtt': [id, 'Arn'] }, t)).toThrow(message);
  });
});

describe('Function: shippedFunctions', () => {
  it('reads code, handler, runtime, timeout, memory, environment and event sources from the template', () => {
    // Act
    const [fn, ...more] = shippedFunctions(stackOf(template()), install);

    // Assess
    expect(more).toEqual([]);
    expect(fn).toStrictEqual({
      functionName: 'deployomat-start-deploy',
      name: 'start-deploy',
      codeDir: '/assembly/asset.abc',
      handler: 'index.handler',
      runtime: 'nodejs24.x',
      timeoutSeconds: 60,
      memoryMb: 512,
      environment: { DEPLOYOMAT_BUS_NAME: 'deployomat', DEPLOYOMAT_SCHEDULE_GROUP: 'deployomat' },
      eventSources: [
        { queueUrl: url('deployomat-start-deploy'), batchSize: 1 },
        { queueUrl: url('deployomat-start-deploy-dlq'), batchSize: 10 },
      ],
    });
  });

  it('throws naming the function and the variable it cannot resolve', () => {
    const t = template();
    (t.Resources.StartDeploy!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.DEPLOYOMAT_TABLE_NAME = { 'Fn::ImportValue': 'x' };

    expect(() => shippedFunctions(stackOf(t), install)).toThrow(/^deployomat-start-deploy: DEPLOYOMAT_TABLE_NAME: Fn::ImportValue is not evaluated locally/);
  });

  it('throws naming the function whose code is not an asset of the cloud assembly', () => {
    const t = template();
    t.Resources.StartDeploy!.Properties!.Code = { ZipFile: 'exports.handler = async () => {}' };

    expect(() => shippedFunctions(stackOf(t), install)).toThrow(/^deployomat-start-deploy: Code: not a file asset of the cloud assembly/);
  });
});

describe("Constant: LAMBDA_NODE_VERSION", () => {
  it("is a release of the construct's default runtime's Node major", () => {
    expect(Number(LAMBDA_NODE_VERSION.split('.')[0])).toBe(nodeMajorOf(DEFAULT_HANDLER_RUNTIME.name));
  });

  it('names what is not a Node.js runtime', () => {
    expect(() => nodeMajorOf('python3.13')).toThrow('python3.13 is not a Node.js Lambda runtime (nodejsNN.x)');
  });
});
