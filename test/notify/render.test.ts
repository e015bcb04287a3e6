import { describe, expect, it } from 'vitest';
import type { NotifyEvent } from '../../domain/notify/events';
import { escape, formatDuration, renderMessage, renderNotice, renderStep, trafficBar } from '../../domain/notify/render';
import { loadNotifierConfig, secretNameFromArn } from '../../domain/notify/slack';
import type { DeployView, UndeployView } from '../../domain/notify/view';

/** What the Slack messages say: pure functions of the view (the message) and of an event (a thread reply). */

const base: DeployView = {
  kind: 'deploy',
  id: 'd-1',
  account: 'acme-web',
  service: 'shop',
  skip: false,
  phase: 'Requested',
  seq: -1,
  amiId: 'ami-1',
  startedAt: '2026-01-01T12:00:00.000Z',
  lastAt: '2026-01-01T12:00:00.000Z',
  applied: ['DeployRequested'],
};
const ref = { DeployId: 'd-1', AccountCanonicalSlug: 'acme-web', ServiceName: 'shop' };
const ev = (type: string, detail: Record<string, unknown>) => ({ id: 'e', time: '2026-01-01T12:00:00Z', type, detail }) as unknown as NotifyEvent;

describe('Notify: the message of a deploy', () => {
  it('announces a deploy as it starts', () => {
    const r = renderMessage(base);
    expect(r.text).toBe('🚀 Deploying *shop* to *acme-web*\nStarting\n*AMI:* `ami-1` · *Elapsed:* 0 s');
    expect(r.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '🚀 Deploying *shop* to *acme-web*\nStarting' } },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*AMI:* `ami-1`' }, { type: 'mrkdwn', text: '*Elapsed:* 0 s' }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Deploy `d-1`' }] },
    ]);
  });

  it('shows the phase, the AMI resolved from a command, the traffic and the time so far while shifting', () => {
    const r = renderMessage({
      ...base,
      amiId: '$name-prefix:shop-',
      resolvedAmiId: 'ami-2',
      asgName: 'shop-20260101T120001Z',
      rollout: 'web',
      phase: 'Shifting',
      seq: 2,
      percent: 40,
      step: 2,
      steps: 5,
      lastAt: '2026-01-01T12:01:05.000Z',
    });
    expect(r.text).toBe(
      [
        '🚀 Deploying *shop* to *acme-web*',
        'Shifting traffic: 40 % on the new version (step 2/5)',
        '*AMI:* `ami-2` (`$name-prefix:shop-`) · *Traffic on new:* ▰▰▰▰▱▱▱▱▱▱ 40 % · *Elapsed:* 1 min 5 s · *New group:* `shop-20260101T120001Z`',
      ].join('\n'),
    );
  });

  it('ends completed ✅ with the duration the deploy reported', () => {
    const r = renderMessage({ ...base, rollout: 'web', phase: 'Completed', percent: 100, durationSeconds: 42.4, previousAsgName: 'shop-old', asgName: 'shop-new' });
    expect(r.text.split('\n').slice(0, 2)).toEqual(['✅ Deployed *shop* to *acme-web*', 'Completed in 42 s; previous version `shop-old` removed']);
    expect(r.text).toContain('*Duration:* 42 s');
  });

  it('ends failed ❌ with every reason, escaped for Slack', () => {
    const r = renderMessage({ ...base, phase: 'Failed', endedInPhase: 'WaitingHealthy', reasons: ['Only 0 of 2 healthy', 'see <logs> & retry'], lastAt: '2026-01-01T12:00:30.000Z' });
    expect(r.text).toBe(
      [
        '❌ Deploy of *shop* to *acme-web* failed',
        'Failed while waiting for healthy instances; rolled back after 30 s',
        '*AMI:* `ami-1` · *Duration:* 30 s',
        '• Only 0 of 2 healthy\n• see &lt;logs&gt; &amp; retry',
      ].join('\n'),
    );
    expect(r.blocks).toContainEqual({ type: 'section', text: { type: 'mrkdwn', text: '• Only 0 of 2 healthy\n• see &lt;logs&gt; &amp; retry' } });
  });

  it('ends cancelled 🛑 with the reason, and rejected ⛔ with every reason', () => {
    const cancelled = renderMessage({ ...base, phase: 'Cancelled', endedInPhase: 'Shifting', rollback: { cause: 'cancel', reason: 'wrong build', fromPhase: 'Shifting' }, durationSeconds: 9 });
    expect(cancelled.text.split('\n').slice(0, 2)).toEqual(['🛑 Deploy of *shop* to *acme-web* cancelled', 'Cancelled while shifting traffic: wrong build; rolled back after 9 s']);
    const rejected = renderMessage({ ...base, phase: 'Rejected', reasons: ['AmiId: unknown AmiId command', 'DeployConfig.WaitPerStep: must not be negative'] });
    expect(rejected.text).toBe(
      '⛔ Deploy of *shop* to *acme-web* rejected\nNothing was changed\n*AMI:* `ami-1`\n• AmiId: unknown AmiId command\n• DeployConfig.WaitPerStep: must not be negative',
    );
  });

  it('raises a rollback that gave up', () => {
    const r = renderMessage({ ...base, phase: 'RollingBack', rollback: { cause: 'failure', reason: 'boom', fromPhase: 'Baking' }, rollbackErrors: ['restore-traffic dead-lettered'] });
    expect(r.text).toContain('🚨 Rollback of *shop* to *acme-web* needs attention\nRolling back from baking (failure): boom');
    expect(r.text).toContain('Rollback failed; publish CancelRequested to retry it:\n• restore-traffic dead-lettered');
  });

  it('shows a paused rollout as "Paused at N % — <reason>", with when it rolls back', () => {
    const paused = { ...base, rollout: 'web', phase: 'Paused', seq: 3, percent: 50, step: 2, steps: 4 } as const;
    const r = renderMessage({ ...paused, paused: { step: 2, percent: 50, by: 'PauseAtPercent', reason: 'PauseAtPercent 50 % reached', rollbackAt: '2026-01-01T12:30:00.000Z' } });
    expect(r.text.split('\n').slice(0, 3)).toEqual([
      '⏸️ Deploy of *shop* to *acme-web* paused',
      'Paused at 50 % — PauseAtPercent 50 % reached; rolls back at 12:30:00 UTC unless resumed or promoted',
      '*AMI:* `ami-1` · *Traffic on new:* ▰▰▰▰▰▱▱▱▱▱ 50 % · *Elapsed:* 0 s',
    ]);
    const byRequest = renderMessage({ ...paused, paused: { step: 2, percent: 50, by: 'request', reason: 'check <graphs>' } });
    expect(byRequest.text.split('\n')[1]).toBe('Paused at 50 % — check &lt;graphs&gt;; waits for resume or promote');
  });

  it('shows a step held for capacity, a promoted rollout, and the load balancer disagreeing with the configured weight', () => {
    const shifting = { ...base, rollout: 'web', phase: 'Shifting', seq: 4, percent: 25, step: 1, steps: 4 } as const;
    expect(renderMessage({ ...shifting, held: { step: 2, percent: 50, healthy: 2, needed: 4, heldSeconds: 12 } }).text.split('\n')[1]).toBe(
      'Holding step 2 (50 %): 2/4 healthy targets, 12 s',
    );
    expect(renderMessage({ ...shifting, promoted: { fromPhase: 'Shifting', fromPercent: 25 } }).text.split('\n')[1]).toBe(
      'Promoted at 25 %: moving to 100 % without further steps or bake',
    );
    expect(renderMessage({ ...shifting, phase: 'Baking', percent: 100, promoted: { fromPhase: 'Baking', fromPercent: 100 } }).text.split('\n')[1]).toBe(
      'Promoted: finishing without the bake',
    );
    expect(renderMessage({ ...shifting, actualPercent: 20 }).text).toContain('*Traffic on new:* ▰▰▰▱▱▱▱▱▱▱ 25 % (load balancer: 20 %)');
  });

  it('says what a non-web service does instead of traffic', () => {
    expect(renderMessage({ ...base, rollout: 'non-web', phase: 'Baking' }).text).toContain('Baking: old and new versions side by side\n*AMI:* `ami-1` · *Traffic:* not a web service');
  });
});

describe('Notify: the message of an undeploy', () => {
  const undeploy: UndeployView = { kind: 'undeploy', id: 'u-1', account: 'acme-web', service: 'shop', skip: false, phase: 'Requested', applied: [] };
  it.each([
    [undeploy, '🧹 Undeploying *shop* from *acme-web*\nRemoving the service'],
    [{ ...undeploy, phase: 'Completed', asgName: 'shop-x', deletedTargetGroups: 1, deletedRules: 2, durationSeconds: 3 }, '✅ Undeployed *shop* from *acme-web*\nRemoved `shop-x`, 1 target group and 2 listener rules in 3 s'],
    [{ ...undeploy, phase: 'Failed', reasons: ['boom'] }, '❌ Undeploy of *shop* from *acme-web* failed\nPublish UndeployRequested again to retry'],
    [{ ...undeploy, phase: 'Rejected', reasons: ['AllowUndeploy is false'] }, '⛔ Undeploy of *shop* from *acme-web* rejected\nNothing was changed'],
  ] as [UndeployView, string][])('%#: %s', (view, start) => {
    expect(renderMessage(view).text.startsWith(start)).toBe(true);
  });
});

describe('Notify: the thread replies', () => {
  it.each([
    ['DeployRequested', { ...ref, AmiId: 'ami-1', DeployConfig: {} }, undefined],
    [
      'AsgCloned',
      { ...ref, Seq: 0, AmiId: 'ami-1', AsgName: 'shop-x', LaunchTemplate: { LaunchTemplateId: 'lt', Version: 3 }, MinSize: 2, MaxSize: 4, Rollout: 'web', RuleArns: [] },
      'Cloned `shop-x` (min 2, max 4) with AMI `ami-1`, launch template version 3',
    ],
    ['InstancesHealthy', { ...ref, Seq: 1, Healthy: 2, Wanted: 2, WaitedSeconds: 75 }, '2/2 instances healthy after 1 min 15 s'],
    ['Deployomat Update', { ...ref, Updates: ['smoke tests passed', 'p99 <200 ms & steady'] }, '📣 smoke tests passed\np99 &lt;200 ms &amp; steady'],
    ['TrafficShifted', { ...ref, Seq: 2, Step: 1, Steps: 4, Percent: 25, ActualPercent: 25, RuleWeights: [] }, 'Traffic shifted: 25 % on the new version (step 1/4)'],
    [
      'TrafficShifted',
      { ...ref, Seq: 2, Step: 1, Steps: 4, Percent: 25, ActualPercent: 20, RuleWeights: [] },
      'Traffic shifted: 25 % on the new version (step 1/4); the load balancer reports 20 %',
    ],
    ['TrafficShiftHeld', { ...ref, Seq: 3, Step: 3, Percent: 60, Healthy: 2, Needed: 4, HeldSeconds: 12 }, 'Holding step 3 (60 %): 2/4 healthy targets, 12 s'],
    ['TrafficShiftHeld', { ...ref, Seq: 3, Step: 3, Percent: 60, Healthy: 2, Needed: 4, HeldSeconds: 0 }, 'Holding step 3 (60 %): 2/4 healthy targets'],
    [
      'RolloutPaused',
      { ...ref, Seq: 3, Step: 2, Percent: 50, By: 'PauseAtPercent', Reason: 'PauseAtPercent 50 % reached', RollbackAt: '2026-01-01T13:00:00.000Z' },
      '⏸️ Paused at 50 % (step 2): PauseAtPercent 50 % reached; rolls back at 13:00:00 UTC unless resumed or promoted',
    ],
    [
      'RolloutPaused',
      { ...ref, Seq: 3, Step: 4, Percent: 100, By: 'request', Reason: 'error rate <1%?' },
      '⏸️ Paused at 100 % (step 4) by request: error rate &lt;1%?; waits for resume or promote',
    ],
    ['RolloutResumed', { ...ref, Seq: 4, PausedSeconds: 95 }, '▶️ Resumed after 1 min 35 s paused'],
    ['RolloutResumed', { ...ref, Seq: 4, PausedSeconds: 5, Reason: 'looks good' }, '▶️ Resumed after 5 s paused: looks good'],
    [
      'RolloutPromoted',
      { ...ref, Seq: 4, FromPhase: 'Shifting', FromPercent: 25, Reason: 'hotfix' },
      '⏭️ Promoted at 25 % (was shifting traffic): hotfix; the remaining steps and the bake are skipped',
    ],
    ['RollbackStarted', { ...ref, Seq: 3, Cause: 'deadline', Reason: 'too slow', FromPhase: 'Baking' }, 'Rolling back from baking (deadline): too slow'],
    ['TrafficRestored', { ...ref, Seq: 4, RestoredRuleArns: ['a', 'b'], DeletedRuleArns: [], DrainSeconds: 15 }, 'Traffic restored: 100 % on the previous version (2 rules); draining 15 s before removing the new group'],
    ['TrafficRestored', { ...ref, Seq: 4, RestoredRuleArns: [], DeletedRuleArns: ['a'], DrainSeconds: 0 }, 'Live rule of the first deploy removed; draining 0 s before removing the new group'],
    ['DeployCompleted', { ...ref, Seq: 5, AmiId: 'ami-1', AsgName: 'x', DurationSeconds: 61 }, '✅ Completed in 1 min 1 s'],
    ['DeployFailed', { ...ref, Seq: 5, Phase: 'Shifting', Errors: ['a', 'b'] }, '❌ Failed while shifting traffic: a; b'],
    ['DeployCancelled', { ...ref, Seq: 5, Reason: 'by <me>', FromPhase: 'Baking', DurationSeconds: 5 }, '🛑 Cancelled after 5 s: by &lt;me&gt;'],
    ['RollbackFailed', { ...ref, Seq: 5, Errors: ['x'] }, '🚨 Rollback failed: x. Publish CancelRequested to retry it.'],
    ['DeployRejected', { ...ref, Reasons: ['a', 'b'] }, '⛔ Rejected: a; b'],
    ['UndeployCompleted', { UndeployId: 'u', AccountCanonicalSlug: 'a', ServiceName: 's', AsgName: 'x', DeletedTargetGroupArns: [], DeletedRuleArns: [], DurationSeconds: 2 }, '✅ Undeployed in 2 s'],
    ['UndeployFailed', { UndeployId: 'u', AccountCanonicalSlug: 'a', ServiceName: 's', Errors: ['x'] }, '❌ Failed: x'],
  ])('%s → %s', (type, detail, expected) => {
    expect(renderStep(ev(type, detail))).toBe(expected);
  });

  it('posts a notice for what has no deploy to attach to', () => {
    expect(renderNotice(ev('CancelRejected', { AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', Reasons: ['nothing to cancel'] }))?.text).toBe(
      '⛔ Cancel of *shop* on *acme-web* rejected\nNothing was changed\n• nothing to cancel',
    );
    expect(renderNotice(ev('DeployRejected', { Reasons: ['the event detail must be a JSON object'] }))?.text).toBe(
      '⛔ Deploy request rejected\nNothing was changed\n• the event detail must be a JSON object',
    );
    expect(renderNotice(ev('DeployRejected', { AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', Reasons: ['no exemplar'], DryRun: true }))?.text).toBe(
      '⛔ Dry run of a deploy of *shop* on *acme-web* rejected\nNothing was changed\n• no exemplar',
    );
    expect(renderNotice(ev('RolloutCommandRejected', { Command: 'PauseRequested', AccountCanonicalSlug: 'acme-web', ServiceName: 'shop', Reasons: ['The rollout is already paused'] }))?.text).toBe(
      '⛔ Pause of *shop* on *acme-web* rejected\nNothing was changed\n• The rollout is already paused',
    );
  });

  it('posts a dry run as one message with the plan', () => {
    const arn = (what: string) => `arn:aws:elasticloadbalancing:us-east-1:222222222222:${what}`;
    const plan = {
      ...ref,
      DeployId: 'shop-dry',
      AmiId: '$name-prefix:shop-',
      ResolvedAmiId: 'ami-2',
      Environment: 'development',
      LaunchTemplate: { LaunchTemplateId: 'lt-1', Action: 'create' },
      AsgName: 'shop-20260101T120000Z',
      MinSize: 2,
      MaxSize: 4,
      TargetGroups: [{ Template: arn('targetgroup/shop-template/abc'), Name: 'shop-20260101T120000Z' }],
      Rules: [
        {
          ListenerArn: arn('listener/app/acme/1/2'),
          ExemplarRuleArn: arn('listener-rule/app/acme/1/2/3'),
          Priority: 10,
          Action: 'shift',
          LiveRuleArn: arn('listener-rule/app/acme/1/2/4'),
          ProductionTargetGroupArn: arn('targetgroup/shop-20251231T000000Z/def'),
        },
      ],
      Rollout: 'web',
      Steps: 4,
      ProductionAsgName: 'shop-20251231T000000Z',
      ProductionTargetGroupArns: [arn('targetgroup/shop-20251231T000000Z/def')],
      ProductionMinSizeDuringDeploy: 2,
      RollbackAlarms: [{ Name: 'shop-5xx', State: 'ALARM' }],
      AllowUndeploy: true,
      Warnings: ['Alarm "shop-5xx" is in ALARM now: the deploy would roll back at its first traffic step'],
    };
    const r = renderNotice(ev('DeployPlanned', plan))!;
    expect(r.text).toBe(
      [
        '📝 Dry run: deploy of *shop* to *acme-web*',
        'Nothing was changed; a deploy started now would do this',
        '*AMI:* `ami-2` (`$name-prefix:shop-`) · *Launch template:* `lt-1`: new version · *New group:* `shop-20260101T120000Z` (min 2, max 4) · ' +
          '*Rollout:* blue/green in 4 steps · *Replaces:* `shop-20251231T000000Z` (min size held at 2) · *Alarms:* `shop-5xx` ALARM',
        '*Target groups:*\n• `shop-20260101T120000Z` (clone of `shop-template`)',
        '*Rules:*\n• shift rule 10 on `listener/app/acme/1/2` from `shop-20251231T000000Z`',
        '⚠️ *Warnings:*\n• Alarm "shop-5xx" is in ALARM now: the deploy would roll back at its first traffic step',
      ].join('\n'),
    );
    expect(r.blocks.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Dry run `shop-dry`' }] });
    // With the notifier's region, its AMI links to the EC2 console too.
    expect(renderNotice(ev('DeployPlanned', { ...plan, ResolvedAmiId: 'ami-0123456789abcdef0' }), { region: 'us-east-1' })!.text).toContain(
      '*AMI:* <https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#ImageDetails:imageId=ami-0123456789abcdef0|ami-0123456789abcdef0> (`$name-prefix:shop-`)',
    );
  });
});

describe('Notify: links to the AWS console', () => {
  const page = (ami: string) => `https://eu-west-2.console.aws.amazon.com/ec2/home?region=eu-west-2#ImageDetails:imageId=${ami}`;

  it("links the AMI to its page in the EC2 console of the notifier's region, as the original did", () => {
    const requested = renderMessage({ ...base, amiId: 'ami-0123456789abcdef0' }, { region: 'eu-west-2' });
    const resolved = renderMessage({ ...base, amiId: '$name-prefix:shop-', resolvedAmiId: 'ami-0fedcba987654321' }, { region: 'eu-west-2' });

    expect(requested.text).toContain(`*AMI:* <${page('ami-0123456789abcdef0')}|ami-0123456789abcdef0>`);
    expect(requested.blocks[1]).toEqual({ type: 'section', fields: [{ type: 'mrkdwn', text: `*AMI:* <${page('ami-0123456789abcdef0')}|ami-0123456789abcdef0>` }, { type: 'mrkdwn', text: '*Elapsed:* 0 s' }] });
    expect(resolved.text).toContain(`*AMI:* <${page('ami-0fedcba987654321')}|ami-0fedcba987654321> (\`$name-prefix:shop-\`)`);
  });

  it.each([
    ['without a region', 'ami-0123456789abcdef0', undefined],
    ['with a region that is no region name', 'ami-0123456789abcdef0', 'eu-west-2|evil'],
    ['for an AMI command not resolved yet', '$name-prefix:shop-', 'eu-west-2'],
    ['for something that is no AMI id', 'ami-<x>', 'eu-west-2'],
  ])('shows the plain id %s', (_when, ami, region) => {
    expect(renderMessage({ ...base, amiId: ami }, { region }).text).toContain(`*AMI:* \`${escape(ami)}\``);
  });
});

describe('Notify: formatting', () => {
  it.each([
    [0, '0 s'],
    [59.6, '1 min'],
    [61, '1 min 1 s'],
    [3600, '1 h'],
    [3725, '1 h 2 min'],
  ])('formatDuration(%s) = %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it('draws traffic on ten cells', () => {
    expect(trafficBar(0)).toBe('▱▱▱▱▱▱▱▱▱▱ 0 %');
    expect(trafficBar(25)).toBe('▰▰▰▱▱▱▱▱▱▱ 25 %');
    expect(trafficBar(100)).toBe('▰▰▰▰▰▰▰▰▰▰ 100 %');
  });

  it("escapes Slack's control characters", () => {
    expect(escape('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });
});

describe('Notify: configuration', () => {
  const env = { DEPLOYOMAT_SLACK_TABLE_NAME: 's', DEPLOYOMAT_TABLE_NAME: 't', DEPLOYOMAT_SLACK_CHANNEL: 'C123' };
  it('takes the token from the environment locally, else reads it by reference', () => {
    expect(loadNotifierConfig({ ...env, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: 'http://127.0.0.1:1/api/' })).toEqual({
      slackTableName: 's',
      ledgerTableName: 't',
      channel: 'C123',
      apiUrl: 'http://127.0.0.1:1/api/',
      token: { kind: 'value', value: 'xoxb-1' },
    });
    expect(loadNotifierConfig({ ...env, SLACK_BOT_TOKEN_PARAMETER_NAME: '/acme/slack' }).token).toEqual({ kind: 'parameter', name: '/acme/slack' });
    expect(loadNotifierConfig({ ...env, SLACK_BOT_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:slack-AbCdEf' }).token).toEqual({
      kind: 'secret',
      arn: 'arn:aws:secretsmanager:us-east-1:1:secret:slack-AbCdEf',
    });
  });

  it('says what is missing', () => {
    expect(() => loadNotifierConfig(env)).toThrow(/no bot token: set SLACK_BOT_TOKEN_SECRET_ARN or SLACK_BOT_TOKEN_PARAMETER_NAME/);
    expect(() => loadNotifierConfig({ SLACK_BOT_TOKEN: 'x' })).toThrow(/check DEPLOYOMAT_SLACK_TABLE_NAME, DEPLOYOMAT_TABLE_NAME, DEPLOYOMAT_SLACK_CHANNEL/);
    // A notifier configured before it had a table of its own: it does not fall back to the ledger.
    const { DEPLOYOMAT_SLACK_TABLE_NAME: _, ...ledgerOnly } = env;
    expect(() => loadNotifierConfig({ ...ledgerOnly, SLACK_BOT_TOKEN: 'x' })).toThrow(/check DEPLOYOMAT_SLACK_TABLE_NAME$/);
  });

  it("names a secret by its ARN's name, without Secrets Manager's suffix", () => {
    expect(secretNameFromArn('arn:aws:secretsmanager:us-east-1:111111111111:secret:deploys/slack-AbCdEf')).toBe('deploys/slack');
    expect(() => secretNameFromArn('arn:aws:ssm:us-east-1:1:parameter/x')).toThrow(/not a Secrets Manager secret ARN/);
  });
});
