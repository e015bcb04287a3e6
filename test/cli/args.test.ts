import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateDeployId } from '../../cli/commands/deploy';
import { explainAwsError } from '../../cli/errors';
import { DeployId } from '../../events/names';
import { cli } from './run-cli';

/** Nothing here reaches AWS: the options are rejected before anything is published. */
const unreachable = ['--endpoint', 'http://127.0.0.1:9', '--region', 'us-east-1'];

describe('deployomat arguments (no AWS)', () => {
  it('rejects invalid deploy options with every zod reason, exit 2, nothing published', async () => {
    const r = await cli([...unreachable, 'deploy', '--account', 'acme', '--service', 'shop', '--traffic-shift-per-step', '0', '--bake-time', 'soon', '--on-concurrent-deploy', 'wait']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      'error: Invalid options (nothing was published):',
      '  - --ami is required',
      '  - --bake-time: must be a number of seconds',
      '  - --traffic-shift-per-step: must be between 1 and 100',
      '  - --on-concurrent-deploy: must be "fail" or "rollback"',
      '',
    ]);
  });

  it('checks AMI commands, names and ids with the same schema as Deployomat', async () => {
    const r = await cli([...unreachable, 'deploy', '--account', '../etc', '--service', 'shop', '--ami', '$latest', '--deploy-id', 'x', '--allow-undeploy', 'maybe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--account: must be 1-64 characters');
    expect(r.stderr).toMatch(/--ami: unknown AmiId command "\$latest"/);
    expect(r.stderr).toContain('--deploy-id: must be 2-64 characters');
    expect(r.stderr).toContain('--allow-undeploy: must be true or false');
  });

  it('checks the rollout flags of deploy: repeatable alarms and pause points, each named when wrong', async () => {
    const r = await cli([
      ...unreachable, 'deploy', '--account', 'acme', '--service', 'shop', '--ami', 'ami-12345678',
      '--pause-at', '25', '--pause-at', '150', '--pause-at', 'half', '--rollback-alarm', 'shop-5xx', '--rollback-alarm', '',
      '--alarm-grace-period', '-1', '--pause-timeout', 'forever',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      'error: Invalid options (nothing was published):',
      '  - --rollback-alarm #2: must not be empty',
      '  - --alarm-grace-period: must not be negative',
      '  - --pause-at #2: must be between 1 and 99',
      '  - --pause-at #3: must be a percentage',
      '  - --pause-timeout: must be a number of seconds',
      '',
    ]);
  });

  it.each([
    ['cancel without --service', ['cancel', '--account', 'acme'], '--service is required'],
    ['pause without --account', ['pause', '--service', 's', '--wait'], '--account is required'],
    ['resume with a bad deploy id', ['resume', '--account', 'acme', '--service', 's', '--deploy-id', 'x'], '--deploy-id: must be 2-64 characters'],
    ['promote with a reason too long', ['promote', '--account', 'acme', '--service', 's', '--reason', 'x'.repeat(501)], '--reason: must be at most 500 characters'],
    ['pause with an unknown option', ['pause', '--account', 'acme', '--service', 's', '--percent', '5'], "unknown option '--percent'"],
    ['undeploy with a bad policy', ['undeploy', '--account', 'acme', '--service', 's', '--on-concurrent-deploy', 'maybe'], '--on-concurrent-deploy: must be "fail" or "rollback"'],
    ['history without --account', ['history', '--service', 's'], '--account is required'],
    ['history with a bad --limit', ['history', '--account', 'a', '--service', 's', '--limit', '0'], '--limit: must be positive'],
    ['an unknown option', ['deploy', '--bake', '3'], "unknown option '--bake'"],
    ['an unknown command', ['frobnicate'], "unknown command 'frobnicate'"],
    ['watch without a deploy id', ['watch', '--account', 'a', '--service', 's'], "missing required argument 'deploy-id'"],
  ])('exits 2 on %s', async (_label, args, message) => {
    const r = await cli([...unreachable, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('generates deploy ids <service>-<yyyymmddThhmmss>-<4 random> within the DeployId charset', () => {
    expect(generateDeployId('shop', new Date('2026-01-02T03:04:05Z'))).toMatch(/^shop-20260102T030405-[a-z0-9]{4}$/);
    const long = generateDeployId('s'.repeat(64));
    expect(long.length).toBeLessThanOrEqual(64);
    expect(DeployId.safeParse(long).success).toBe(true);
  });

  it('says how to provide credentials when there are none', async () => {
    const saved = { ...process.env };
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']) {
      delete process.env[k];
    }
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' });
    try {
      const r = await cli([...unreachable, 'deploy', '--account', 'acme', '--service', 'shop', '--ami', 'ami-12345678']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('No AWS credentials: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID');
    } finally {
      process.env = saved;
    }
  });

  it('says when the endpoint cannot be reached', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    try {
      const r = await cli([...unreachable, 'history', '--account', 'acme', '--service', 'shop']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('Cannot reach http://127.0.0.1:9 (is the local runtime running? npm run local)');
    } finally {
      process.env = saved;
    }
  });

  it('names the permission a denied call needs', () => {
    const ctx = { bus: 'deployomat', table: 'deployomat-ledger', region: 'eu-west-1' };
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    expect(explainAwsError(denied, ctx, 'subscription')).toMatchObject({
      exitCode: 3,
      details: [expect.stringContaining('rules "deployomat-cli-*"'), expect.any(String), expect.stringContaining('events:ListRules and sqs:ListQueues')],
    });
    expect(explainAwsError(denied, ctx, 'table').details.join(' ')).toContain('dynamodb:Scan');
    const missing = Object.assign(new Error('Event bus x does not exist.'), { name: 'ResourceNotFoundException' });
    expect(explainAwsError(missing, ctx, 'subscription').message).toBe('Event bus deployomat not found in eu-west-1; pass --bus or check the installation.');
    expect(explainAwsError(new Error('Region is missing'), ctx).message).toBe('No AWS region: pass --region or set AWS_REGION.');
  });

  it('runs as the package bin from any directory (cli/bin.js through tsx)', async () => {
    const bin = fileURLToPath(new URL('../../cli/bin.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help'], { cwd: tmpdir() });
    expect(stdout).toContain('Usage: deployomat [options] [command]');
    for (const command of ['deploy', 'cancel', 'undeploy', 'status', 'history', 'watch', 'pause', 'resume', 'promote']) expect(stdout).toContain(`  ${command} `);
    const failed = await promisify(execFile)(process.execPath, [bin, 'deploy', '--account', 'a'], { cwd: tmpdir() }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining('--service is required') });
  });
});
