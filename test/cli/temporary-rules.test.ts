import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeleteRuleCommand, EventBridgeClient, ListRulesCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIFECYCLE_SOURCE } from '../../events/catalog';
import { startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { cli, globals, start } from './run-cli';

/**
 * Issue #12, finding 10: a CLI killed while following (kill -9, a cancelled CI job, a lost
 * network) leaves its temporary rule `<bus>-cli-*` and queue behind, and a bus holds at most 300
 * rules. The CLI records on each rule when its follower last renewed it; the next CLI removes
 * those not renewed for an hour and refuses to add one to 100 live ones. These failed before.
 */
describe('CLI: temporary subscriptions <bus>-cli-* (issue #12, finding 10)', () => {
  let t: TestDeployomat;
  let events: EventBridgeClient;
  let sqs: SQSClient;
  const account = 'acme-cli-rules';
  const service = 'shop';
  const HOUR = 3600_000;
  const bus = () => t.local.install.busName;
  const prefix = () => `${bus()}-cli-`;
  /** The Description a following CLI writes (and renews) on its rule. */
  const described = (renewedAt: number) => `Temporary subscription of the deployomat CLI (${account}/${service}); renewed ${new Date(renewedAt).toISOString()}; safe to delete 60 min after that`;
  /** The Description of a CLI from before renewals. */
  const legacy = `Temporary subscription of the deployomat CLI (${account}/${service}); safe to delete`;
  const rejectedDeploy = (...extra: string[]) => [...globals(t), 'deploy', '--account', 'nope', '--service', service, '--ami', 'ami-12345678', '--wait', ...extra];

  /** A subscription as a CLI leaves it when killed: the rule, and its queue as the rule's target. */
  async function plant(name: string, description: string, opts: { queue?: boolean } = {}): Promise<void> {
    const { RuleArn } = await events.send(new PutRuleCommand({ Name: name, EventBusName: bus(), EventPattern: JSON.stringify({ source: [LIFECYCLE_SOURCE] }), Description: description }));
    expect(RuleArn).toBeDefined();
    if (opts.queue === false) return;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await events.send(new PutTargetsCommand({ Rule: name, EventBusName: bus(), Targets: [{ Id: 'cli', Arn: arn }] }));
  }

  /** The names of the rules on the bus and the queues under `<bus>-cli-`. */
  async function leftover(): Promise<{ rules: { name: string; description?: string }[]; queues: string[] }> {
    const rules: { name: string; description?: string }[] = [];
    let token: string | undefined;
    do {
      const out = await events.send(new ListRulesCommand({ EventBusName: bus(), NamePrefix: prefix(), NextToken: token }));
      rules.push(...(out.Rules ?? []).map((r) => ({ name: r.Name!, description: r.Description })));
      token = out.NextToken;
    } while (token);
    const queues = ((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix() }))).QueueUrls ?? []).map((u) => u.slice(u.lastIndexOf('/') + 1));
    return { rules: rules.sort((a, b) => a.name.localeCompare(b.name)), queues: queues.sort() };
  }
  const names = async () => {
    const { rules, queues } = await leftover();
    return { rules: rules.map((r) => r.name), queues };
  };

  /** Removes everything under the prefix, so each test starts from an empty bus. */
  async function clear(): Promise<void> {
    for (const { name } of (await leftover()).rules) {
      await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: bus(), Ids: ['cli'] })).catch(() => undefined);
      await events.send(new DeleteRuleCommand({ Name: name, EventBusName: bus() }));
    }
    const urls = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix() }))).QueueUrls ?? [];
    for (const QueueUrl of urls) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  }

  /** A deploy in the ledger's history that has not ended: `watch` follows it until told otherwise. */
  async function running(deployId: string): Promise<void> {
    const ledger = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await ledger.send(
      new PutCommand({
        TableName: t.local.install.tableName,
        Item: { pk: `${account}#${service}`, sk: `DEPLOY#${deployId}`, Phase: 'ShiftingTraffic', AmiId: 'ami-12345678', StartedAt: new Date().toISOString() },
      }),
    );
  }

  /** Ends a watched deploy the way Deployomat would: its DeployCompleted on the bus. */
  const complete = (deployId: string) =>
    events.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: bus(), Source: LIFECYCLE_SOURCE, DetailType: 'DeployCompleted', Detail: JSON.stringify({ AccountCanonicalSlug: account, ServiceName: service, DeployId: deployId }) },
        ],
      }),
    );

  /** Runs the CLI as its own process (the package bin), to send it real signals. */
  function spawnCli(args: string[]) {
    const bin = fileURLToPath(new URL('../../cli/bin.js', import.meta.url));
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    return { child, exited, output: () => `${stdout}${stderr}` };
  }

  const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
    for (const deadline = Date.now() + timeoutMs; !(await check()); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > deadline) throw new Error(`never: ${what}`);
    }
  };

  beforeAll(async () => {
    t = await startTestDeployomat({ slug: account });
    events = new EventBridgeClient({});
    sqs = new SQSClient({});
  });
  afterAll(async () => t?.stop());
  beforeEach(async () => clear());
  afterEach(async () => {
    vi.useRealTimers();
    await t.emulator.configure({ faults: [] });
  });

  it('removes the rules and queues killed CLIs left, with their targets, and keeps live ones and what is not its own', async () => {
    // Prepare
    const p = prefix();
    await plant(`${p}stale1`, described(Date.now() - 2 * HOUR));
    await plant(`${p}stale2`, described(Date.now() - 3 * 24 * HOUR));
    await plant(`${p}legacynoqueue`, legacy, { queue: false }); // from before renewals, no queue listed: its age is unknown
    await plant(`${p}fresh1`, described(Date.now() - 10 * 60_000));
    await plant(`${p}legacyfresh`, legacy); // from before renewals: its queue is new, so it may be following
    await plant(`${p}someone-else`, 'not the CLI');
    await sqs.send(new CreateQueueCommand({ QueueName: `${p}other-queue` }));

    // Act
    const r = await cli(rejectedDeploy());

    // Assess
    expect(r.code, r.stderr).toBe(1); // rejected: followed to the end
    expect(r.stderr).toContain('was rejected');
    expect(await names()).toEqual({
      rules: [`${p}fresh1`, `${p}legacyfresh`, `${p}legacynoqueue`, `${p}someone-else`],
      queues: [`${p}fresh1`, `${p}legacyfresh`, `${p}other-queue`, `${p}someone-else`],
    });
  });

  it('records on its rule when it last renewed it, renews it while following, and removes it at the end', async () => {
    // Prepare
    await running('d-renew');
    const watch = start([...globals(t), 'watch', 'd-renew', '--account', account, '--service', service]);
    await watch.until(/deploy d-renew of ami-12345678/);
    const renewedAt = async () => {
      const { rules } = await leftover();
      expect(rules).toHaveLength(1);
      return Date.parse(/renewed (\S+);/.exec(rules[0]!.description ?? '')?.[1] ?? '');
    };
    expect(Math.abs((await renewedAt()) - Date.now())).toBeLessThan(60_000);

    // Act: six minutes later (the renewal is due every five)
    const later = Date.now() + 6 * 60_000;
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(later);
    await until('the rule is renewed', async () => (await renewedAt()) >= later);
    vi.useRealTimers();
    await complete('d-renew');
    const done = await watch.done;

    // Assess
    expect(done.code, done.stderr).toBe(0);
    expect(await names()).toEqual({ rules: [], queues: [] });
  });

  it('refuses to follow while 100 subscriptions are live, saying what to do, and publishes nothing', async () => {
    // Prepare
    for (let i = 0; i < 100; i++) await plant(`${prefix()}live${i}`, described(Date.now()), { queue: false });

    // Act
    const r = await cli(rejectedDeploy('--deploy-id', 'too-many-1'));

    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`error: Too many temporary subscriptions on bus ${bus()}: 100 "${prefix()}*" rules are in use (at most 100); nothing was published.`);
    expect(r.stderr).toContain('publish without --wait');
    expect(r.stderr).toContain(`aws events list-rules --event-bus-name ${bus()} --name-prefix ${prefix()}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(t.observer.of('too-many-1')).toEqual([]);
    expect((await names()).rules).toHaveLength(100);
  });

  it('says how to follow again when another CLI removed its subscription (this one was suspended too long)', async () => {
    // Prepare
    await running('d-removed');
    const watch = start([...globals(t), 'watch', 'd-removed', '--account', account, '--service', service]);
    await watch.until(/deploy d-removed of/);

    // Act: what a sweeping CLI does to a subscription not renewed for an hour
    await clear();
    const done = await watch.done;

    // Assess
    expect(done.code).toBe(3);
    expect(done.stderr).toMatch(/error: The temporary subscription \S+ was removed while following/);
    expect(done.stderr).toContain('follow again with deployomat watch <deploy-id>');
    expect(await names()).toEqual({ rules: [], queues: [] });
  });

  it('still follows, with a warning, when its role may not list rules (a DeployerRole from before the sweep)', async () => {
    // Prepare
    await t.emulator.configure({ faults: [{ action: 'ListRules', count: 1, code: 'AccessDeniedException', message: 'not authorized to perform: events:ListRules' }] });

    // Act
    const r = await cli(rejectedDeploy());

    // Assess
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('was rejected');
    expect(r.stderr).toContain('warning: could not look for stale temporary subscriptions');
    expect(r.stderr).toContain('events:ListRules, sqs:ListQueues');
    expect(await names()).toEqual({ rules: [], queues: [] });
  });

  it('removes its rule and queue when SIGTERM arrives while it is creating them, and publishes nothing', async () => {
    // Prepare: the queue is created three seconds late, so the signal lands between rule and queue.
    await t.emulator.configure({ faults: [{ action: 'CreateQueue', count: 1, delaySeconds: 3 }] });
    const run = spawnCli(rejectedDeploy('--deploy-id', 'sigterm-1'));
    await until('its rule exists', async () => (await names()).rules.length === 1);

    // Act
    run.child.kill('SIGTERM');
    const exit = await run.exited;

    // Assess
    expect(exit, run.output()).toEqual({ code: 130, signal: null });
    expect(run.output()).toContain('nothing was published');
    expect(await names()).toEqual({ rules: [], queues: [] });
    expect(t.observer.of('sigterm-1')).toEqual([]);
  });

  it('removes its rule and queue on Ctrl-C while following (a positive control)', async () => {
    // Prepare
    await running('d-ctrl-c');
    const run = spawnCli([...globals(t), 'watch', 'd-ctrl-c', '--account', account, '--service', service]);
    await until('it follows', () => run.output().includes('deploy d-ctrl-c of'));
    expect((await names()).rules).toHaveLength(1);

    // Act
    run.child.kill('SIGINT');
    const exit = await run.exited;

    // Assess
    expect(exit, run.output()).toEqual({ code: 130, signal: null });
    expect(await names()).toEqual({ rules: [], queues: [] });
  });
});
