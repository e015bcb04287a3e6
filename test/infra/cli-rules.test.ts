import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeployerRole, Deployomat } from '../../infra/cdk';
import { ACCOUNT, identityPolicies, newApp, newStack, REGION, resolve, roleId, simulate, type CfnTemplate } from './helpers';

/**
 * Issue #12, finding 10: the CLI removes the temporary rules and queues (`<bus>-cli-*`) that
 * killed CLIs left, so they cannot fill the bus's quota of 300 rules. Finding them takes
 * `events:ListRules` and `sqs:ListQueues` (no resource-level permissions: this region only);
 * removing them, the grants the CLI already had on `<bus>-cli-*` alone. Simulated against the
 * synthesized DeployerRole; the listing failed before the fix.
 */
const BUS = 'deployomat';
let templates: Record<'env' | 'agnostic', CfnTemplate>;

beforeAll(() => {
  const app = newApp();
  // The region comes from the stack's env, or from AWS::Region in an environment-agnostic stack.
  const stacks = [newStack(app, 'CiCd'), new Stack(app, 'Agnostic')];
  for (const stack of stacks) {
    const deployomat = new Deployomat(stack, 'Deployomat', { environment: 'development', organizationPrefix: 'acme' });
    new DeployerRole(stack, 'Deployer', { deployomat, userAccountIds: ['222222222222'] });
  }
  const [env, agnostic] = stacks.map((stack) => Template.fromStack(stack).toJSON() as CfnTemplate) as [CfnTemplate, CfnTemplate];
  templates = { env, agnostic };
});

const rule = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${BUS}/${name}`;
const queue = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const asDeployer = (template: CfnTemplate, action: string, resource: string, region = REGION) =>
  simulate({
    principal: resolve({ 'Fn::GetAtt': [roleId(template, 'Deployer'), 'Arn'] }, template) as string,
    identity: identityPolicies(template, roleId(template, 'Deployer')),
    action,
    resource,
    context: { 'aws:RequestedRegion': region },
  });

describe.each(['env', 'agnostic'] as const)('DeployerRole (%s stack): the CLI removing stale temporary rules', (kind) => {
  it.each(['events:ListRules', 'sqs:ListQueues'])('may call %s (to find them) in its region only', async (action) => {
    expect(await asDeployer(templates[kind], action, '*')).toBe('Allowed');
    expect(await asDeployer(templates[kind], action, '*', 'eu-west-1')).toBe('ImplicitlyDenied');
  });

  it.each([
    ['events:RemoveTargets', rule],
    ['events:DeleteRule', rule],
    ['events:PutRule', rule], // the renewal
    ['sqs:GetQueueAttributes', queue], // the age of a queue without a rule
    ['sqs:DeleteQueue', queue],
  ] as const)('may call %s on <bus>-cli-* only: never on Deployomat’s own rules and queues', async (action, arn) => {
    expect(await asDeployer(templates[kind], action, arn(`${BUS}-cli-ab12cd34`))).toBe('Allowed');
    expect(await asDeployer(templates[kind], action, arn(`${BUS}-start-deploy`))).toBe('ImplicitlyDenied');
    expect(await asDeployer(templates[kind], action, arn(`${BUS}-restore-traffic`))).toBe('ImplicitlyDenied');
  });
});
