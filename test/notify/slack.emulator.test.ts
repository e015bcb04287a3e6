import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneClients } from '../../domain/aws/clients';
import { Ledger } from '../../domain/ledger';
import { Conversations } from '../../domain/notify/conversation';
import { parseNotifyEvent, type NotifyEvent } from '../../domain/notify/events';
import { notify } from '../../domain/notify/notify';
import type { SlackMessage, SlackPort } from '../../domain/notify/slack';
import { allPages } from '../../infra/local/pages';
import { seedService, type SeededService } from '../../infra/local/seed';
import { FAST, startTestDeployomat, type TestDeployomat } from '../helpers/deployomat';
import { startSlackStandIn, type SlackCall, type SlackStandIn } from './slack-stand-in';

/**
 * The Slack notifier on the local runtime, against a stand-in for the Slack Web API on loopback:
 * the exact requests for a blue/green deploy, a failure, a cancel, SkipNotifications, an undeploy
 * and a rejected cancel. Every handler gets every batch twice (as SQS redelivers after a lost
 * acknowledgement), so each sequence also proves that a duplicate never posts again.
 */
describe('Slack notifier (emulator + Slack stand-in)', () => {
  let t: TestDeployomat;
  let slack: SlackStandIn;
  let svc: SeededService;
  const slug = 'acme-slack';
  const service = 'shop';
  const TOKEN = 'xoxb-test';

  beforeAll(async () => {
    slack = await startSlackStandIn({ token: TOKEN });
    t = await startTestDeployomat({
      slug,
      runtime: { deliverTwice: true },
      env: { DEPLOYOMAT_SLACK_CHANNEL: 'C123', SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: slack.url },
    });
    svc = await seedService(t.account, { service, web: true, amis: ['shop-v1', 'shop-v2', 'shop-v3', 'shop-bad'], unhealthy: ['shop-bad'] });
  });
  afterAll(async () => {
    await t?.stop();
    await slack?.close();
  });

  // The notifier's own table: it only reads the ledger.
  const conversations = () => new Conversations(controlPlaneClients().dynamo, t.local.install.slackTableName!, 45_000);
  const subject = (id: string, kind: 'deploy' | 'undeploy' = 'deploy') => ({ kind, id, account: slug, service });

  /** Waits until the notifier has folded `type` into the deploy's conversation, then for Slack to go quiet. */
  async function notified(id: string, type: string, kind: 'deploy' | 'undeploy' = 'deploy') {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const c = await conversations().get(subject(id, kind));
      if (c?.view.applied.some((s) => s === type || s.startsWith(`${type}#`))) break;
      if (Date.now() > deadline) throw new Error(`the notifier never handled ${type} of ${id}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await slack.quiet(1500);
  }

  async function deploy(deployId: string, ami: string, config: Record<string, unknown>) {
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: svc.amis[ami], DeployId: deployId, DeployConfig: config });
    return t.observer.outcome(deployId, 60_000);
  }

  /** The requests since `from`, one line each: `post: …` (a new message), `reply: …` (in its thread) or `update: …`. */
  function lines(from: number, root?: string): string[] {
    return slack.calls.slice(from).map((c: SlackCall) => {
      const text = String(c.args.text);
      if (c.method === 'chat.update') return `update: ${text.split('\n').slice(0, 2).join(' / ')}`;
      if (c.args.thread_ts) return `reply${root && c.args.thread_ts !== root ? ' (other thread)' : ''}: ${text}`;
      return `post: ${text.split('\n').slice(0, 2).join(' / ')}`;
    });
  }
  const m = (re: RegExp) => expect.stringMatching(re);

  it('posts nothing for a successful deploy with SkipNotifications', async () => {
    const from = slack.calls.length;

    const outcome = await deploy('shop-1', 'shop-v1', { ...FAST, SkipNotifications: true });

    expect(outcome.detailType).toBe('DeployCompleted');
    await notified('shop-1', 'DeployCompleted');
    expect(slack.calls.slice(from)).toEqual([]);
  });

  it('posts one message for a blue/green deploy, updates it to completed, and logs each step in its thread', async () => {
    const from = slack.calls.length;

    const outcome = await deploy('shop-2', 'shop-v2', { ...FAST, TrafficShiftPerStep: 50 });

    expect(outcome.detailType).toBe('DeployCompleted');
    await notified('shop-2', 'DeployCompleted');
    const calls = slack.calls.slice(from);
    const root = calls[0]!;
    expect(root).toMatchObject({ method: 'chat.postMessage', authorization: `Bearer ${TOKEN}`, args: { channel: 'C123' } });
    const rootTs = String((await conversations().get(subject('shop-2')))!.ts);
    expect(rootTs).toMatch(/^1700000000\.\d{6}$/);
    expect(lines(from, rootTs)).toEqual([
      `post: 🚀 Deploying *shop* to *${slug}* / Starting`,
      `update: 🚀 Deploying *shop* to *${slug}* / Waiting for 2 instances to become healthy`,
      m(/^reply: Cloned `shop-\d{8}T?\d{6}Z?.*` \(min 2, max 4\) with AMI `ami-\w+`, launch template version 3$/),
      `update: 🚀 Deploying *shop* to *${slug}* / Instances healthy (2/2), shifting traffic`,
      m(/^reply: 2\/2 instances healthy after \d+ s$/),
      `update: 🚀 Deploying *shop* to *${slug}* / Shifting traffic: 50 % on the new version (step 1/2)`,
      'reply: Traffic shifted: 50 % on the new version (step 1/2)',
      `update: 🚀 Deploying *shop* to *${slug}* / Baking: 100 % on the new version`,
      'reply: Traffic shifted: 100 % on the new version (step 2/2)',
      m(new RegExp(`^update: ✅ Deployed \\*shop\\* to \\*${slug}\\* / Completed in \\d+ s; previous version \`shop-.+\` removed$`)),
      m(/^reply: ✅ Completed in \d+ s$/),
    ]);
    // Every update edits the one message, in the channel Slack answered with.
    for (const c of calls.filter((x) => x.method === 'chat.update')) expect(c.args).toMatchObject({ channel: 'C123', ts: rootTs });
    // The final message: AMI, traffic, duration, and blocks laying out the same.
    const final = calls.filter((c) => c.method === 'chat.update').at(-1)!;
    const ami = svc.amis['shop-v2']!;
    expect(String(final.args.text)).toContain(`*AMI:* <https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#ImageDetails:imageId=${ami}|${ami}>`);
    expect(String(final.args.text)).toContain('*Traffic on new:* ▰▰▰▰▰▰▰▰▰▰ 100 %');
    expect(final.args.blocks).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'section' }), expect.objectContaining({ type: 'context' })]));
    expect(calls.every((c) => c.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('ends a deploy whose instances never become healthy as failed, with the reason', async () => {
    const from = slack.calls.length;

    const outcome = await deploy('shop-3', 'shop-bad', { ...FAST, HealthTimeout: 3 });

    expect(outcome.detailType).toBe('DeployFailed');
    await notified('shop-3', 'DeployFailed');
    const reason = (outcome.detail.Errors as string[])[0]!;
    expect(reason).toMatch(/became healthy within HealthTimeout \(3 s\)/);
    expect(lines(from)).toEqual([
      `post: 🚀 Deploying *shop* to *${slug}* / Starting`,
      `update: 🚀 Deploying *shop* to *${slug}* / Waiting for 2 instances to become healthy`,
      m(/^reply: Cloned `shop-/),
      `update: ↩️ Rolling back the deploy of *shop* to *${slug}* / Rolling back from waiting for healthy instances (failure): ${reason}`,
      `reply: Rolling back from waiting for healthy instances (failure): ${reason}`,
      `update: ↩️ Rolling back the deploy of *shop* to *${slug}* / Rolling back from waiting for healthy instances (failure): ${reason}`,
      m(/^reply: Traffic restored: 100 % on the previous version \(1 rule\); draining 1 s before removing the new group$/),
      m(new RegExp(`^update: ❌ Deploy of \\*shop\\* to \\*${slug}\\* failed / Failed while waiting for healthy instances; rolled back after \\d+ s$`)),
      `reply: ❌ Failed while waiting for healthy instances: ${reason}`,
    ]);
    const final = slack.calls.filter((c) => c.method === 'chat.update').at(-1)!;
    expect(String(final.args.text)).toContain(`• ${reason}`);
  });

  it('ends a deploy cancelled mid-shift as cancelled, with the reason', async () => {
    const from = slack.calls.length;
    await t.send('DeployRequested', {
      AccountCanonicalSlug: slug,
      ServiceName: service,
      AmiId: svc.amis['shop-v3'],
      DeployId: 'shop-4',
      DeployConfig: { ...FAST, TrafficShiftPerStep: 25, WaitPerStep: 4 },
    });
    await t.observer.waitFor((e) => e.detail.DeployId === 'shop-4' && e.detailType === 'TrafficShifted' && e.detail.Percent === 25, 60_000);
    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: service, Reason: 'wrong build' });

    const outcome = await t.observer.outcome('shop-4', 60_000);

    expect(outcome.detailType).toBe('DeployCancelled');
    await notified('shop-4', 'DeployCancelled');
    expect(lines(from)).toEqual([
      `post: 🚀 Deploying *shop* to *${slug}* / Starting`,
      `update: 🚀 Deploying *shop* to *${slug}* / Waiting for 2 instances to become healthy`,
      m(/^reply: Cloned `shop-/),
      `update: 🚀 Deploying *shop* to *${slug}* / Instances healthy (2/2), shifting traffic`,
      m(/^reply: 2\/2 instances healthy after \d+ s$/),
      `update: 🚀 Deploying *shop* to *${slug}* / Shifting traffic: 25 % on the new version (step 1/4)`,
      'reply: Traffic shifted: 25 % on the new version (step 1/4)',
      `update: ↩️ Rolling back the deploy of *shop* to *${slug}* / Rolling back from shifting traffic (cancel): wrong build`,
      'reply: Rolling back from shifting traffic (cancel): wrong build',
      `update: ↩️ Rolling back the deploy of *shop* to *${slug}* / Rolling back from shifting traffic (cancel): wrong build`,
      m(/^reply: Traffic restored: 100 % on the previous version/),
      m(new RegExp(`^update: 🛑 Deploy of \\*shop\\* to \\*${slug}\\* cancelled / Cancelled while shifting traffic: wrong build; rolled back after \\d+ s$`)),
      m(/^reply: 🛑 Cancelled after \d+ s: wrong build$/),
    ]);
  });

  it('posts only the failure of a failing deploy with SkipNotifications, as one message', async () => {
    const from = slack.calls.length;

    const outcome = await deploy('shop-5', 'shop-bad', { ...FAST, HealthTimeout: 3, SkipNotifications: true });

    expect(outcome.detailType).toBe('DeployFailed');
    await notified('shop-5', 'DeployFailed');
    const reason = (outcome.detail.Errors as string[])[0]!;
    expect(lines(from)).toEqual([
      m(new RegExp(`^post: ❌ Deploy of \\*shop\\* to \\*${slug}\\* failed / Failed while waiting for healthy instances; rolled back after \\d+ s$`)),
    ]);
    expect(String(slack.calls[from]!.args.text)).toContain(`• ${reason}`);
  });

  it('lets one of several concurrent deliveries post a message or a reply, never two', async () => {
    const posts: SlackMessage[] = [];
    const updates: unknown[] = [];
    const slow: SlackPort = {
      async post(message) {
        posts.push(message);
        await new Promise((r) => setTimeout(r, 300)); // Slack is slow: the other deliveries find the claim
        return { ts: `1800000000.00000${posts.length}`, channel: 'C9' };
      },
      async update(message) {
        updates.push(message);
      },
    };
    const cp = controlPlaneClients();
    const deps = {
      slack: slow,
      channel: 'C9',
      conversations: conversations(),
      ledger: new Ledger(cp.dynamo, t.local.install.tableName),
      log: { info: () => undefined, warn: () => undefined },
    };
    const event = (id: string, type: string, detail: Record<string, unknown>): NotifyEvent => {
      const parsed = parseNotifyEvent(JSON.stringify({ id, 'detail-type': type, source: type === 'DeployRequested' ? 'deployomat.client' : 'deployomat', time: new Date().toISOString(), detail }));
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.event;
    };
    const ref = { AccountCanonicalSlug: slug, ServiceName: 'race', DeployId: 'race-1' };
    const requested = event('e-1', 'DeployRequested', { ...ref, AmiId: 'ami-0123456789abcdef0' });
    await Promise.all([notify(deps, requested), notify(deps, requested), notify(deps, requested)]);
    expect(posts).toEqual([expect.objectContaining({ channel: 'C9', text: expect.stringMatching(/^🚀 Deploying \*race\*/) })]);

    // The same step twice at once: a redelivery, and the outbox publishing it again under a new id.
    const clonedDetail = { ...ref, Seq: 0, AmiId: 'ami-0123456789abcdef0', AsgName: 'race-x', LaunchTemplate: { LaunchTemplateId: 'lt', Version: 2 }, MinSize: 1, MaxSize: 2, Rollout: 'non-web', RuleArns: [], TargetGroupArns: [] };
    await Promise.all([notify(deps, event('e-2', 'AsgCloned', clonedDetail)), notify(deps, event('e-2-again', 'AsgCloned', clonedDetail))]);
    expect(posts.slice(1)).toEqual([expect.objectContaining({ threadTs: '1800000000.000001', text: expect.stringMatching(/^Cloned `race-x`/) })]);
    expect(updates.length).toBeGreaterThanOrEqual(1); // an update may be sent by both: harmless
    expect((await conversations().get({ kind: 'deploy', id: 'race-1', account: slug, service: 'race' }))).toMatchObject({ ts: '1800000000.000001', channel: 'C9', version: 2, sentVersion: 2 });
  });

  // A blue/green deploy: production is the one the earlier tests left.
  it('shows a rollout paused at PauseAtPercent until resumed, and posts a dry run as one message of its own', async () => {
    const from = slack.calls.length;
    await t.send('DeployRequested', {
      AccountCanonicalSlug: slug,
      ServiceName: service,
      AmiId: svc.amis['shop-v1'],
      DeployId: 'shop-6',
      DeployConfig: { ...FAST, TrafficShiftPerStep: 50, PauseAtPercent: [50] },
    });
    await t.observer.waitFor((e) => e.detail.DeployId === 'shop-6' && e.detailType === 'RolloutPaused', 60_000);
    // Resumed only once Slack shows the pause.
    for (let c = await conversations().get(subject('shop-6')); !(c?.view.phase === 'Paused' && c.sentVersion >= c.version); c = await conversations().get(subject('shop-6'))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await t.send('ResumeRequested', { AccountCanonicalSlug: slug, ServiceName: service, DeployId: 'shop-6', Reason: 'metrics fine' });
    expect((await t.observer.outcome('shop-6', 60_000)).detailType).toBe('DeployCompleted');
    await notified('shop-6', 'DeployCompleted');

    const seen = lines(from);
    // No PauseTimeout: it rolls back after the installation's maximum pause (a day) unless resumed.
    const until = 'rolls back at \\d\\d:\\d\\d:\\d\\d UTC unless resumed or promoted';
    const pausedUpdate = new RegExp(`^update: ⏸️ Deploy of \\*shop\\* to \\*${slug}\\* paused / Paused at 50 % — PauseAtPercent 50 % reached; ${until}$`);
    // The step and the pause come from one transition (the same Seq) and may reach the notifier in either order.
    expect(seen).toEqual(
      expect.arrayContaining([
        m(pausedUpdate),
        m(new RegExp(`^reply: ⏸️ Paused at 50 % \\(step 1\\): PauseAtPercent 50 % reached; ${until}$`)),
        'reply: Traffic shifted: 50 % on the new version (step 1/2)',
        m(/^reply: ▶️ Resumed after \d+ s paused: metrics fine$/),
      ]),
    );
    expect(seen.findIndex((l) => pausedUpdate.test(l))).toBeLessThan(seen.findIndex((l) => l.startsWith('reply: ▶️ Resumed')));
    expect(seen.at(-1)).toMatch(/^reply: ✅ Completed in \d+ s$/);

    const dryFrom = slack.calls.length;
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: svc.amis['shop-v2'], DeployId: 'shop-dry', DeployConfig: { DryRun: true } });
    expect((await t.observer.outcome('shop-dry', 60_000)).detailType).toBe('DeployPlanned');
    await slack.waitFor((calls) => calls.length > dryFrom, 30_000, 'the dry run');
    await slack.quiet(1000); // a duplicate delivery would post within it
    expect(lines(dryFrom)).toEqual([`post: 📝 Dry run: deploy of *shop* to *${slug}* / Nothing was changed; a deploy started now would do this`]);
    expect(String(slack.calls[dryFrom]!.args.text)).toMatch(/\*Rules:\*\n• shift rule 10 on `listener\/app\/\S+` from `shop-/);
    expect(await conversations().get(subject('shop-dry'))).toBeUndefined();
  });

  it("adds progress updates others publish (the original's custom update events) to the deploy's thread, once each", async () => {
    // Prepare: a deploy between two traffic steps.
    const from = slack.calls.length;
    await t.send('DeployRequested', { AccountCanonicalSlug: slug, ServiceName: service, AmiId: svc.amis['shop-v1'], DeployId: 'shop-8', DeployConfig: { ...FAST, TrafficShiftPerStep: 50, WaitPerStep: 4 } });
    await t.observer.waitFor((e) => e.detail.DeployId === 'shop-8' && e.detailType === 'TrafficShifted' && e.detail.Percent === 50, 60_000);
    await notified('shop-8', 'TrafficShifted');

    // Act: a CI job reports on this deploy, and on one no message was posted for.
    const update = (DeployId: string, Updates: string[]) =>
      new EventBridgeClient({}).send(
        new PutEventsCommand({
          Entries: [{ EventBusName: t.local.install.busName, Source: 'omat.deploy.update', DetailType: 'Deployomat Update', Detail: JSON.stringify({ AccountCanonicalSlug: slug, ServiceName: service, DeployId, Updates }) }],
        }),
      );
    await update('shop-8', ['smoke tests passed', 'p99 < 200 ms']);
    await update('shop-nope', ['nobody posted this deploy']);
    await notified('shop-8', 'Deployomat Update');
    expect((await t.observer.outcome('shop-8', 60_000)).detailType).toBe('DeployCompleted');
    await notified('shop-8', 'DeployCompleted');

    // Assess: one reply in the deploy's thread (each batch was delivered twice); nothing for the other.
    const rootTs = String((await conversations().get(subject('shop-8')))!.ts);
    expect(lines(from, rootTs).filter((l) => l.includes('📣'))).toEqual(['reply: 📣 smoke tests passed\np99 &lt; 200 ms']);
    expect(lines(from).filter((l) => l.includes('nobody posted'))).toEqual([]);
    expect(await conversations().get(subject('shop-nope'))).toBeUndefined();
    expect(lines(from, rootTs).at(-1)).toMatch(/^reply: ✅ Completed in \d+ s$/);
  });

  it('posts an undeploy, and a rejected cancel as a notice of its own', async () => {
    const from = slack.calls.length;
    const undeployId = await t.send('UndeployRequested', { AccountCanonicalSlug: slug, ServiceName: service });
    const outcome = await t.observer.undeployOutcome(undeployId, 60_000);
    expect(outcome.detailType).toBe('UndeployCompleted');
    await notified(undeployId, 'UndeployCompleted', 'undeploy');

    await t.send('CancelRequested', { AccountCanonicalSlug: slug, ServiceName: service });
    await slack.waitFor((calls) => calls.length > from + 3, 30_000, 'the rejected cancel');
    await slack.quiet(1500);

    expect(lines(from)).toEqual([
      `post: 🧹 Undeploying *shop* from *${slug}* / Removing the service`,
      m(new RegExp(`^update: ✅ Undeployed \\*shop\\* from \\*${slug}\\* / Removed \`shop-.+\`, 1 target group and 1 listener rule in \\d+ s$`)),
      m(/^reply: ✅ Undeployed in \d+ s$/),
      m(new RegExp(`^post: ⛔ Cancel of \\*shop\\* on \\*${slug}\\* rejected / Nothing was changed$`)),
    ]);
  });

  // Issue #12, finding 8: its role may not write the ledger, so nothing of it may be there.
  it('kept every message, reply and notice in its own table, none in the ledger', async () => {
    const scan = (table: string) => allPages(paginateScan({ client: controlPlaneClients().dynamo }, { TableName: table, ConsistentRead: true }), (p) => p.Items);
    const isSlack = (i: Record<string, unknown>) => String(i.sk).startsWith('SLACK#') || i.pk === 'SLACK#NOTICE';

    const [ledger, own] = await Promise.all([scan(t.local.install.tableName), scan(t.local.install.slackTableName!)]);

    expect(ledger.filter(isSlack)).toEqual([]);
    expect(ledger.some((i) => i.sk === 'SERVICE')).toBe(true);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every(isSlack)).toBe(true);
    expect(own.some((i) => i.pk === 'SLACK#NOTICE')).toBe(true);
  });
});
