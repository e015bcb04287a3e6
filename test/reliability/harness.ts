import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetGroupsCommand, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EXEMPLAR_PRIORITY_OFFSET, forwardTargets, listRules } from '../../domain/aws/listener-rules';
import { workloadClients } from '../../infra/local/seed';

/**
 * Shared checks of the reliability tests: the traffic invariants sampled while deploys run, and
 * the final shape of a service (what it owns, counted).
 */

type Elb = Awaited<ReturnType<typeof workloadClients>>['elb'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * With the emulator's eventual consistency on (DEPLOYOMAT_EMULATOR_CONSISTENCY, moto_server.py "p."),
 * the sampler's own reads lag too: a group just created may be missing from its list while a rule
 * already forwards to it. Such a group is looked up again once the longest lag has passed.
 */
let lagMs = Number((JSON.parse(process.env.DEPLOYOMAT_EMULATOR_CONSISTENCY || '{}') as { maxLagMs?: number }).maxLagMs ?? 0);

/** The emulator this file runs lags its reads by up to `ms` (startEmulator's `consistency`). */
export function assumeReadLag(ms: number): void {
  lagMs = ms;
}

async function stillMissing(elb: Elb, arns: string[]): Promise<string[]> {
  if (!lagMs) return arns;
  await sleep(lagMs);
  const found = await Promise.all(
    arns.map((arn) =>
      elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })).then(
        () => true,
        (err: Error) => (err.name === 'TargetGroupNotFoundException' ? false : Promise.reject(err)),
      ),
    ),
  );
  return arns.filter((_, i) => !found[i]);
}

async function allTargetGroups(elb: Elb): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  let marker: string | undefined;
  do {
    const out = await elb.send(new DescribeTargetGroupsCommand({ Marker: marker }));
    for (const t of out.TargetGroups ?? []) names.set(t.TargetGroupArn!, t.TargetGroupName!);
    marker = out.NextMarker;
  } while (marker);
  return names;
}

const forwardOf = (r: Rule) => forwardTargets(r.Actions?.find((a) => a.Type === 'forward'));

export interface TrafficViolation {
  at: number;
  service: string;
  priority: string;
  problem: string;
}

/**
 * Samples a listener's rules every `intervalMs` (and the ASGs every `asgEveryN`-th time) while
 * deploys run, and checks each snapshot: a rule forwarding to several target groups has weights
 * summing to 100, and no rule forwards to a target group that does not exist. When a group
 * looks missing, the rules are read again: it counts only if both reads agree on the rule
 * (otherwise a deletion between the reads would look like a violation).
 * `serviceOf(priority)` attributes a rule (live or exemplar) to its service.
 */
export class TrafficSampler {
  readonly violations: TrafficViolation[] = [];
  samples = 0;
  /** Most deploy ASGs / target groups a service had at once (template excluded). */
  readonly maxAsgs = new Map<string, number>();
  readonly maxTargetGroups = new Map<string, number>();
  /** Forward configurations seen on each service's live rule, as `tg:weight` lists (for reports). */
  readonly weightsSeen = new Map<string, Set<string>>();
  private running = true;
  private loop?: Promise<void>;

  constructor(
    private readonly listenerArn: string,
    private readonly services: string[],
    private readonly serviceOf: (priority: number) => string | undefined,
    private readonly intervalMs = 200,
    private readonly asgEveryN = 5,
  ) {}

  start(): this {
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private bump(map: Map<string, number>, service: string, n: number) {
    map.set(service, Math.max(map.get(service) ?? 0, n));
  }

  private async run() {
    const { elb, autoscaling } = await workloadClients();
    let tick = 0;
    while (this.running) {
      const started = Date.now();
      try {
        await this.sample(elb);
        if (tick++ % this.asgEveryN === 0) {
          const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
          for (const s of this.services) {
            this.bump(this.maxAsgs, s, groups.filter((g) => g.AutoScalingGroupName!.startsWith(`${s}-`) && g.AutoScalingGroupName !== `${s}-template`).length);
          }
        }
      } catch (err) {
        if (this.running) this.violations.push({ at: Date.now(), service: '?', priority: '?', problem: `sampling failed: ${String(err)}` });
      }
      await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
  }

  private async sample(elb: Elb) {
    const before = await listRules(elb, this.listenerArn);
    const groups = await allTargetGroups(elb);
    // Read the rules again only when a group looks missing (it may have been deleted in between).
    const suspect = before.some((r) => forwardOf(r).some((t) => !groups.has(t.arn)));
    const after = new Map(suspect ? (await listRules(elb, this.listenerArn)).map((r) => [r.RuleArn!, JSON.stringify(forwardOf(r))]) : []);
    this.samples++;
    const at = Date.now();
    for (const s of this.services) {
      const prefix = `${s.slice(0, 15)}-`;
      this.bump(this.maxTargetGroups, s, [...groups.values()].filter((n) => n.startsWith(prefix) && !n.endsWith('-template')).length);
    }
    for (const rule of before) {
      if (rule.IsDefault) continue;
      const priority = Number(rule.Priority);
      const service = this.serviceOf(priority);
      if (!service) continue;
      const targets = forwardOf(rule);
      if (!targets.length) this.violations.push({ at, service, priority: rule.Priority!, problem: 'forwards nowhere' });
      if (targets.length > 1) {
        const sum = targets.reduce((a, t) => a + t.weight, 0);
        if (sum !== 100) this.violations.push({ at, service, priority: rule.Priority!, problem: `weights sum to ${sum}: ${JSON.stringify(targets)}` });
      }
      let missing = targets.filter((t) => !groups.has(t.arn));
      if (missing.length && after.get(rule.RuleArn!) === JSON.stringify(targets)) {
        const gone = new Set(await stillMissing(elb, missing.map((t) => t.arn)));
        missing = missing.filter((t) => gone.has(t.arn));
      }
      if (missing.length && after.get(rule.RuleArn!) === JSON.stringify(targets)) {
        this.violations.push({ at, service, priority: rule.Priority!, problem: `forwards to missing target group(s) ${missing.map((t) => t.arn).join(', ')}` });
      }
      if (priority < EXEMPLAR_PRIORITY_OFFSET) {
        const seen = this.weightsSeen.get(service) ?? new Set<string>();
        seen.add(targets.map((t) => `${groups.get(t.arn) ?? 'missing'}:${targets.length > 1 ? t.weight : 100}`).join(','));
        this.weightsSeen.set(service, seen);
      }
    }
  }
}

export interface ServiceShape {
  asgs: { name: string; min: number; targetGroups: string[] }[];
  targetGroups: string[];
  /** Live rules (priority < 40000) of the service with their forwards as `tg name:weight`. */
  liveRules: { priority: string; forwards: string[] }[];
  exemplarRules: number;
  launchTemplate: { latest?: number; default?: number; versions: number };
}

/** Counts what a service has in the workload account (template ASG and group excluded). */
export async function serviceShape(
  service: string,
  listenerArn: string,
  priority: number,
  launchTemplateId: string,
): Promise<ServiceShape> {
  const { autoscaling, elb, ec2 } = await workloadClients();
  const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
  const tgs = await allTargetGroups(elb);
  const name = (arn: string) => tgs.get(arn) ?? `missing:${arn}`;
  const rules = await listRules(elb, listenerArn);
  const lt = (await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [launchTemplateId] }))).LaunchTemplates?.[0];
  const versions = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId }))).LaunchTemplateVersions ?? [];
  return {
    asgs: groups
      .filter((g) => g.AutoScalingGroupName!.startsWith(`${service}-`) && g.AutoScalingGroupName !== `${service}-template`)
      .map((g) => ({ name: g.AutoScalingGroupName!, min: g.MinSize!, targetGroups: (g.TargetGroupARNs ?? []).map(name) })),
    targetGroups: [...tgs.values()].filter((n) => n.startsWith(`${service.slice(0, 15)}-`) && !n.endsWith('-template')).sort(),
    liveRules: rules
      .filter((r) => r.Priority === String(priority))
      .map((r) => {
        const targets = forwardOf(r);
        return { priority: r.Priority!, forwards: targets.map((t) => `${name(t.arn)}:${targets.length > 1 ? t.weight : 100}`) };
      }),
    exemplarRules: rules.filter((r) => r.Priority === String(priority + EXEMPLAR_PRIORITY_OFFSET)).length,
    launchTemplate: { latest: lt?.LatestVersionNumber, default: lt?.DefaultVersionNumber, versions: versions.length },
  };
}

/** Resolves once `count()` has not changed for `quietMs` (or after `timeoutMs`). */
export async function settled(count: () => number, quietMs = 1500, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

/** Runs `fn` over `items`, at most `n` at a time, in order of `items`. */
export async function inBatches<T, R>(items: T[], n: number, fn: (batch: T[], index: number) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await fn(items.slice(i, i + n), i / n)));
  return out;
}
