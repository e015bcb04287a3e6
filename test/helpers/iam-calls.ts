import { DescribeTagsCommand as AsgDescribeTagsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { DescribeTagsCommand as ElbDescribeTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetInstanceProfileCommand, GetRoleCommand, IAMClient, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { MiddlewareStack } from '@smithy/types';
import { fileURLToPath } from 'node:url';
import { featureHandlers, resourceNames } from '../../events/topology';
import { workloadClients } from '../../infra/local/seed';

/**
 * Test-only: records every AWS call Deployomat's code makes in this process — and those AWS makes
 * on its behalf with its roles (the event source mappings' receives and deletes, Scheduler's
 * deliveries, both played by infra/local/runtime.ts) — with what IAM would evaluate: the input,
 * whose session made it, and the tags of the resources it acts on as they were just before.
 * test/helpers/iam-requests.ts turns each into the IAM requests AWS authorizes.
 */
export type Principal = 'handlers' | 'deploy' | 'meta' | 'scheduler' | 'deployer';

export interface RecordedCall {
  principal: Principal;
  /** Session tags of the assumed-role session that made it (deploy, meta). */
  sessionTags: Record<string, string>;
  service: string;
  operation: string;
  input: Record<string, unknown>;
  /** Tags of the resource(s) acted on, by ARN or name, read just before the call. */
  resourceTags: Record<string, Record<string, string>>;
  /** CreateAutoScalingGroup: what the launch template version launches with. */
  launch?: { instanceRoles: { arn: string; tags: Record<string, string> }[]; tagsInstances: boolean };
  /** ListRoleTags: the role's ARN (the input names it without its path). */
  roleArn?: string;
  ok: boolean;
}

interface SendableClient {
  config: { serviceId?: string; credentials?: () => Promise<{ accessKeyId: string }> };
}
interface Command {
  input?: Record<string, unknown>;
  clientCommand?: { constructor: { name: string } };
  constructor: { name: string };
}
type Send = (this: SendableClient, command: Command, ...rest: unknown[]) => Promise<unknown>;

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Queues of the optional features' functions (default prefix, as every test installation). */
const FEATURE_QUEUES = new Set(featureHandlers('slack').map((h) => resourceNames().queue(h.name)));

/** The first frame of this repository's code (libraries skipped): a handler's, the local runtime's (AWS's part), or anything else's. */
function callerOf(stack: string): 'handler' | 'runtime' | 'cli' | 'other' {
  for (const line of stack.split('\n').slice(1)) {
    const m = line.match(/\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/);
    if (!m) continue;
    const file = m[1]!.replace(/^file:\/\//, '');
    if (!file.startsWith(REPO) || file.includes('/node_modules/') || file.endsWith('/test/helpers/iam-calls.ts')) continue;
    const rel = file.slice(REPO.length);
    if (rel.startsWith('infra/local/runtime')) return 'runtime';
    // The import runs with an operator's own credentials (README), not a role of Deployomat's.
    if (stack.includes(`${REPO}cli/commands/import.ts`)) return 'other';
    // The CLI runs as the DeployerRole, not a handler, whatever module it calls.
    if (stack.includes(`${REPO}cli/`)) return 'cli';
    // The Slack notifier runs as its own role (SlackNotifier), not replayed here: test/infra/slack-trust.test.ts.
    if (rel.startsWith('domain/notify/') || rel.startsWith('handlers/notify-slack')) return 'other';
    return /^(domain|handlers|events)\//.test(rel) ? 'handler' : 'other';
  }
  return 'other';
}

const asTags = (list: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

/** Clients the recorder itself uses to read tags: never recorded. */
const own = new WeakSet<object>();

export class IamCallLog {
  readonly calls: RecordedCall[] = [];
  private readonly sessions = new Map<string, { principal: Principal; tags: Record<string, string> }>();
  private restore?: () => void;

  /** Patches smithy's `Client.prototype.send` until `stop()`; `roles` maps assumed role ARNs to the principal they play. */
  static start(roles: Record<string, Principal>): IamCallLog {
    const log = new IamCallLog();
    const proto = Object.getPrototypeOf(SQSClient.prototype) as { send: Send };
    const original = proto.send;
    proto.send = async function (this: SendableClient, command: Command, ...rest: unknown[]) {
      if (own.has(this)) return original.call(this, command, ...rest);
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 60;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      const operation = (command.clientCommand ?? command).constructor.name.replace(/Command$/, '');
      const input = (command.input ?? {}) as Record<string, unknown>;
      const principal = await log.principalOf(this, stack, operation, input);
      if (!principal) return original.call(this, command, ...rest);
      const call: RecordedCall = {
        ...principal,
        service: this.config.serviceId ?? 'unknown',
        operation,
        input,
        resourceTags: {},
        ok: true,
      };
      await log.enrich(call).catch(() => {});
      try {
        const out = (await original.call(this, command, ...rest)) as Record<string, unknown>;
        if (operation === 'AssumeRole') {
          const key = (out.Credentials as { AccessKeyId?: string } | undefined)?.AccessKeyId;
          const role = roles[String(input.RoleArn)];
          if (key && role) log.sessions.set(key, { principal: role, tags: asTags(input.Tags as { Key: string; Value: string }[]) });
        }
        return out;
      } catch (err) {
        call.ok = false;
        throw err;
      } finally {
        log.calls.push(call);
      }
    };
    log.restore = () => {
      proto.send = original;
    };
    return log;
  }

  stop(): void {
    this.restore?.();
  }

  /** Who makes this call in AWS, or undefined for calls that are not Deployomat's (tests, seeding, the observer). */
  private async principalOf(client: SendableClient, stack: string, operation: string, input: Record<string, unknown>): Promise<{ principal: Principal; sessionTags: Record<string, string> } | undefined> {
    const caller = callerOf(stack);
    if (caller === 'runtime') {
      if (stack.includes('schedulerClock')) return ['SendMessage', 'PutEvents'].includes(operation) ? { principal: 'scheduler', sessionTags: {} } : undefined;
      // The event source mapping: AWS receives and deletes with the function's role (a feature's
      // function, e.g. the Slack notifier, has a role of its own: not replayed here).
      const queue = String(input.QueueUrl ?? '').split('/').pop();
      if (FEATURE_QUEUES.has(queue ?? '')) return undefined;
      return ['ReceiveMessage', 'DeleteMessage', 'DeleteMessageBatch', 'ChangeMessageVisibility'].includes(operation)
        ? { principal: 'handlers', sessionTags: {} }
        : undefined;
    }
    if (caller === 'other') return undefined;
    const key = (await client.config.credentials?.())?.accessKeyId;
    const session = key ? this.sessions.get(key) : undefined;
    if (caller === 'cli') {
      // The user's DeployerRole session. `status` assuming the workload role is recorded (and is
      // denied, as documented); what it reads with that session the deployer cannot reach in AWS.
      return !session && key === process.env.AWS_ACCESS_KEY_ID ? { principal: 'deployer', sessionTags: {} } : undefined;
    }
    if (session) return { principal: session.principal, sessionTags: session.tags };
    // The process's own credentials are the handlers' role; any other session (a test's or the
    // seed's, calling Deployomat's functions) is not a handler's.
    return key === process.env.AWS_ACCESS_KEY_ID ? { principal: 'handlers', sessionTags: {} } : undefined;
  }

  /** Reads what IAM would see of the resources the call acts on (their tags; a launch template's role). */
  private async enrich(call: RecordedCall): Promise<void> {
    if (call.principal !== 'deploy') return;
    const w = await readers();
    const i = call.input;
    switch (call.operation) {
      case 'UpdateAutoScalingGroup':
      case 'DeleteAutoScalingGroup':
      case 'PutScalingPolicy':
      case 'PutWarmPool':
      case 'EnableMetricsCollection': {
        const name = String(i.AutoScalingGroupName);
        const out = await w.autoscaling.send(new AsgDescribeTagsCommand({ Filters: [{ Name: 'auto-scaling-group', Values: [name] }] }));
        call.resourceTags[name] = asTags(out.Tags);
        break;
      }
      case 'ModifyRule':
      case 'DeleteRule':
      case 'DeleteTargetGroup':
      case 'ModifyTargetGroupAttributes': {
        const arn = String(i.RuleArn ?? i.TargetGroupArn);
        const out = await w.elb.send(new ElbDescribeTagsCommand({ ResourceArns: [arn] }));
        call.resourceTags[arn] = asTags(out.TagDescriptions?.[0]?.Tags);
        break;
      }
      case 'CreateLaunchTemplateVersion':
      case 'ModifyLaunchTemplate': {
        const id = String(i.LaunchTemplateId);
        const out = await w.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }));
        call.resourceTags[id] = asTags(out.LaunchTemplates?.[0]?.Tags);
        break;
      }
      case 'ListRoleTags': {
        call.roleArn = (await w.iam.send(new GetRoleCommand({ RoleName: String(i.RoleName) }))).Role?.Arn;
        break;
      }
      case 'CreateAutoScalingGroup': {
        const lt = i.LaunchTemplate as { LaunchTemplateId: string; Version: string };
        const v = (await w.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: [lt.Version] }))).LaunchTemplateVersions?.[0];
        const profile = v?.LaunchTemplateData?.IamInstanceProfile;
        const name = profile?.Name ?? profile?.Arn?.split('/').pop();
        const roles = name ? ((await w.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile?.Roles ?? []) : [];
        const instanceRoles = [];
        for (const role of roles) {
          instanceRoles.push({ arn: role.Arn!, tags: asTags((await w.iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName }))).Tags) });
        }
        call.launch = { instanceRoles, tagsInstances: (v?.LaunchTemplateData?.TagSpecifications ?? []).length > 0 };
        break;
      }
    }
  }
}

let cachedReaders: Promise<Awaited<ReturnType<typeof workloadClients>> & { iam: IAMClient }> | undefined;
/** The workload account's clients, as the seed's own session (never recorded). */
function readers() {
  cachedReaders ??= workloadClients().then((w) => {
    for (const c of Object.values(w)) {
      own.add(c);
      // What IAM evaluates is the settled state: no injected fault, no lagging read (emulator OBSERVER_HEADER).
      (c as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.add(
        (next) => (args) => {
          (args.request as { headers: Record<string, string> }).headers['x-deployomat-observer'] = '1';
          return next(args);
        },
        { step: 'build', name: 'deployomatObserver' },
      );
    }
    return w as typeof w & { iam: IAMClient };
  });
  return cachedReaders;
}
