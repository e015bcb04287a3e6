import type { LocalInstallation } from '../provision';
import { UnresolvableValueError } from './errors';
import type { CfnResource, CfnTemplate } from './stack';

/**
 * Evaluates a value of the synthesized template (an environment variable, an event source ARN)
 * against the local installation, as CloudFormation would against the stack it created: pseudo
 * parameters, `Ref`/`Fn::GetAtt` of the bus, the ledger table, the queues, the schedule group and
 * the scheduler role, `Fn::Join`. A resource is matched by the physical name the template gives it
 * (the scheduler role, which has none, by being the one role Scheduler may assume), and must exist
 * locally. Anything else throws UnresolvableValueError naming `where`: a local run never guesses.
 */
export function resolveValue(value: unknown, where: string, template: CfnTemplate, install: LocalInstallation): string {
  const r = (v: unknown): string => resolveValue(v, where, template, install);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const o = (value ?? {}) as Record<string, unknown>;
  const [fn, ...more] = Object.keys(o);
  if (fn === undefined || more.length || Array.isArray(value)) throw new UnresolvableValueError(where, `not a value or one intrinsic: ${JSON.stringify(value)}`);
  const args = o[fn];
  switch (fn) {
    case 'Ref':
      return attribute(String(args), 'Ref', where, template, install);
    case 'Fn::GetAtt': {
      const [id, attr] = (typeof args === 'string' ? args.split('.') : args) as [string, string];
      return attribute(id, attr, where, template, install);
    }
    case 'Fn::Join': {
      const [separator, parts] = args as [string, unknown[]];
      return parts.map(r).join(separator);
    }
    default:
      throw new UnresolvableValueError(where, `${fn} is not evaluated locally (${JSON.stringify(value)})`);
  }
}

function attribute(id: string, attr: string, where: string, template: CfnTemplate, install: LocalInstallation): string {
  const pseudo: Record<string, string> = {
    'AWS::Region': install.region,
    'AWS::AccountId': install.accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (attr === 'Ref' && pseudo[id]) return pseudo[id];
  const resource = template.Resources[id];
  if (!resource) throw new UnresolvableValueError(where, `${id} is not a resource of the template`);
  const name = (key: string) => {
    const v = resource.Properties?.[key];
    if (v === undefined) throw new UnresolvableValueError(where, `${id} (${resource.Type}) has no ${key}: nothing to match it to locally`);
    return resolveValue(v, where, template, install);
  };
  /** The local resource of that name, which must be the installation's own. */
  const local = (kind: string, expected: readonly (string | undefined)[], actual: string) => {
    if (!expected.includes(actual)) {
      throw new UnresolvableValueError(where, `the template's ${kind} ${actual} (${id}) is not the local installation's (${expected.filter(Boolean).join(', ')})`);
    }
    return actual;
  };
  const arn = (service: string, resourcePart: string) => `arn:aws:${service}:${install.region}:${install.accountId}:${resourcePart}`;
  switch (`${resource.Type}.${attr}`) {
    case 'AWS::Events::EventBus.Ref':
    case 'AWS::Events::EventBus.Name':
      return local('bus', [install.busName], name('Name'));
    case 'AWS::Events::EventBus.Arn':
      return arn('events', `event-bus/${local('bus', [install.busName], name('Name'))}`);
    case 'AWS::DynamoDB::Table.Ref':
      return local('table', [install.tableName, install.slackTableName], name('TableName'));
    case 'AWS::DynamoDB::Table.Arn':
      return arn('dynamodb', `table/${local('table', [install.tableName, install.slackTableName], name('TableName'))}`);
    case 'AWS::SQS::Queue.Ref':
      return queueUrl(name('QueueName'), where, install);
    case 'AWS::SQS::Queue.Arn':
      return arn('sqs', queueName(queueUrl(name('QueueName'), where, install)));
    case 'AWS::SQS::Queue.QueueName':
      return queueName(queueUrl(name('QueueName'), where, install));
    case 'AWS::Scheduler::ScheduleGroup.Ref':
    case 'AWS::Scheduler::ScheduleGroup.Name':
      return local('schedule group', [install.scheduleGroup], name('Name'));
    case 'AWS::Scheduler::ScheduleGroup.Arn':
      return arn('scheduler', `schedule-group/${local('schedule group', [install.scheduleGroup], name('Name'))}`);
    case 'AWS::IAM::Role.Arn':
      if (isTheSchedulerRole(id, resource, template)) return install.schedulerRoleArn;
      throw new UnresolvableValueError(where, `${id} is not the scheduler role (the one role only scheduler.amazonaws.com may assume), the only role the local installation has`);
    default:
      throw new UnresolvableValueError(where, `${attr} of ${id} (${resource.Type}) is not evaluated locally`);
  }
}

/** The URL of the local queue `name` (a handler's queue or a dead-letter queue); throws naming `where` if there is none. */
export function queueUrl(name: string, where: string, install: LocalInstallation): string {
  const url = [...Object.values(install.queueUrls), ...Object.values(install.deadLetterQueueUrls)].find((u) => queueName(u) === name);
  if (!url) throw new UnresolvableValueError(where, `the template's queue ${name} is not a queue of the local installation`);
  return url;
}

/** The name at the end of a queue URL or ARN. */
export const queueName = (urlOrArn: string): string => urlOrArn.split(/[/:]/).pop()!;

/** The role Scheduler assumes: the template's only role whose trust policy names scheduler.amazonaws.com alone. */
function isTheSchedulerRole(id: string, resource: CfnResource, template: CfnTemplate): boolean {
  const trustsSchedulerOnly = (r: CfnResource) => {
    const statements = ((r.Properties?.AssumeRolePolicyDocument as { Statement?: { Principal?: { Service?: unknown } }[] } | undefined)?.Statement ?? []);
    return statements.length > 0 && statements.every((s) => s.Principal?.Service === 'scheduler.amazonaws.com');
  };
  const schedulerRoles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' && trustsSchedulerOnly(r));
  return schedulerRoles.length === 1 && schedulerRoles[0]![0] === id && trustsSchedulerOnly(resource);
}
