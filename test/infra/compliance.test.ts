import { resourceNames, rules as topologyRules } from '../../events/topology';
import { Stack, Validations, type App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSampleApp, DEPLOY_ROLE_DESCRIBE_ACTIONS, DeployAccessRole, Deployomat, MetaAccessRole, SlackBotToken, SlackNotifier } from '../../infra/cdk';
import { allStatements, asList, env, newApp, props, resourcesOf, type CfnTemplate } from './helpers';

/**
 * What users deploy — the sample app (infra/app.ts) plus the options it does not use (a customer
 * managed key of their own, a meta role, an organization, the audit trail, the Slack notifier) — checked by cdk-nag (AwsSolutions) and cfn-lint,
 * and scanned for the security rules of the templates.
 */
let app: App;
let templates: Map<string, CfnTemplate>;
let synthError: unknown;

/** The options the sample leaves out, in a stack of their own. */
function buildExtras(scope: App): void {
  const stack = new Stack(scope, 'DeployomatExtras', { env });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true, description: 'Deployomat queues and ledger' });
  const deployomat = new Deployomat(stack, 'Deployomat', {
    prefix: 'extras',
    environment: 'production',
    organizationPrefix: 'acme',
    metaRoleArn: 'arn:aws:iam::333333333333:role/DeployomatParameterAccess',
    encryptionKey: key,
    organizationId: 'o-abcdefghij',
    auditTrail: true,
    roleExternalId: 'acme-deployomat-4f1c',
  });
  // Roles that require the external id (their trust gets a TagSession statement of its own).
  const roles = new Stack(scope, 'DeployomatRolesExtras', { env });
  const trust = { ciCdAccountIds: [env.account], organizationPrefix: 'acme', deployomatPrefix: 'extras', externalId: 'acme-deployomat-4f1c' };
  new DeployAccessRole(roles, 'DeployAccessRole', { ...trust, environment: 'production', roleName: 'ExtrasDeployAccess' });
  new MetaAccessRole(roles, 'MetaAccessRole', { ...trust, roleName: 'ExtrasParameterAccess' });
  const secret = new secretsmanager.Secret(stack, 'SlackToken', { description: 'Slack bot token' });
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'Slack bot tokens cannot be rotated by a Lambda.' });
  new SlackNotifier(stack, 'Slack', { deployomat, token: SlackBotToken.fromSecret(secret), channel: '#deploys' });
}

beforeAll(() => {
  app = newApp();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  buildSampleApp(app, { env });
  buildExtras(app);
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  templates = new Map(
    readdirSync(app.outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [f, JSON.parse(readFileSync(join(app.outdir, f), 'utf8')) as CfnTemplate]),
  );
});

function nagViolations(outdir: string): string[] {
  const file = join(outdir, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    pluginReports: { pluginName: string; violations: { ruleName: string; severity?: string; violatingConstructs: { constructPath: string }[] }[] }[];
  };
  return report.pluginReports.flatMap((p) =>
    p.violations.map((v) => `${p.pluginName} ${v.severity ?? ''} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
  );
}

describe('cdk-nag (AwsSolutions)', () => {
  it('passes on every stack, each acknowledged finding with its reason', () => {
    expect(nagViolations(app.outdir)).toEqual([]);
    expect(synthError).toBeUndefined();
    expect([...templates.keys()].sort()).toEqual([
      'DeployomatCiCd.template.json',
      'DeployomatExtras.template.json',
      'DeployomatMeta.template.json',
      'DeployomatRolesExtras.template.json',
      'DeployomatWorkload.template.json',
    ]);
  });

  it('fails a stack with an unacknowledged wildcard (the check is live)', () => {
    const bad = newApp();
    Validations.of(bad).addPlugins(new AwsSolutionsChecks(bad));
    const stack = new Stack(bad, 'Bad', { env });
    new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
    );
    expect(() => bad.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
    expect(nagViolations(bad.outdir)).toEqual([expect.stringContaining('AwsSolutions-IAM5[Resource::*]')]);
  });
});

describe('cfn-lint', () => {
  it('passes on every synthesized template', () => {
    const files = [...templates.keys()].map((f) => join(app.outdir, f));
    // W3005: CDK makes each function DependsOn its role as well as referencing it (redundant, harmless).
    const run = spawnSync('cfn-lint', ['--format', 'json', '--ignore-checks', 'W3005', '--', ...files], { encoding: 'utf8' });
    if (run.error) {
      throw new Error(`cannot run cfn-lint (${run.error.message}): install it with "pip install cfn-lint" (our CI machines have it)`);
    }
    const findings = (JSON.parse(run.stdout || '[]') as { Rule: { Id: string }; Message: string; Filename: string }[]).map(
      (f) => `${f.Rule.Id} ${f.Filename.split('/').pop()}: ${f.Message}`,
    );
    expect(findings).toEqual([]);
    expect(run.status).toBe(0);
  });
});

describe('Security of the templates', () => {
  const statements = () =>
    [...templates].flatMap(([file, t]) =>
      allStatements(t)
        // In a key policy, Resource "*" is the key itself.
        .filter(({ resource }) => t.Resources[resource]?.Type !== 'AWS::KMS::Key')
        .map((s) => ({ ...s, file })),
    );

  it('allows no wildcard action', () => {
    const wild = statements().filter(
      ({ statement }) => statement.Effect === 'Allow' && asList(statement.Action).some((a) => String(a) === '*' || String(a).endsWith(':*')),
    );
    expect(wild).toEqual([]);
  });

  it('passes roles only by name, scoped to a service', () => {
    const passRole = statements().filter(({ statement }) => asList(statement.Action).includes('iam:PassRole'));
    expect(passRole.length).toBeGreaterThan(0);
    for (const { statement } of passRole) {
      expect(asList(statement.Resource)).not.toContain('*');
      expect(JSON.stringify(statement.Condition)).toContain('iam:PassedToService');
    }
  });

  it('allows nothing on every resource without a condition, except the documented describes', () => {
    const unconditioned = statements().filter(
      ({ statement }) => statement.Effect === 'Allow' && asList(statement.Resource).includes('*') && !statement.Condition,
    );
    expect(unconditioned.length).toBeGreaterThan(0);
    for (const { statement } of unconditioned) {
      expect(DEPLOY_ROLE_DESCRIBE_ACTIONS).toEqual(expect.arrayContaining(asList(statement.Action) as string[]));
    }
  });

  it('encrypts every queue and enforces TLS on it', () => {
    for (const [, t] of templates) {
      const queues = resourcesOf(t, 'AWS::SQS::Queue');
      for (const [id, q] of queues) expect(props(q).SqsManagedSseEnabled === true || props(q).KmsMasterKeyId !== undefined, id).toBe(true);
      const tlsOnly = resourcesOf(t, 'AWS::SQS::QueuePolicy').filter(([, p]) => JSON.stringify(props(p)).includes('"aws:SecureTransport":"false"'));
      expect(tlsOnly.flatMap(([, p]) => props(p).Queues as unknown[])).toHaveLength(queues.length);
    }
  });

  it('matches only Deployomat sources in every rule (and the progress updates in the Slack notifier\'s), and replays only in the projection rules', () => {
    // The projections of the topology (rules that take replays): only the audit history.
    const projections = topologyRules(resourceNames()).filter((r) => !('replay-name' in r.pattern));
    expect(new Set(projections.map((r) => r.handler.name))).toEqual(new Set(['record-history']));
    const isProjection = (name: string) => projections.some((p) => name.endsWith(p.name.slice(resourceNames().bus.length)));
    const rules = [...templates.values()].flatMap((t) => resourcesOf(t, 'AWS::Events::Rule'));
    expect(rules.length).toBeGreaterThan(0);
    for (const [, r] of rules) {
      // Progress updates (events/progress.ts, the original's source) feed the Slack notifier only.
      const sources = String(props(r).Name).endsWith('-notify-slack-3') ? /^omat\.deploy\.update$/ : /^deployomat(\.client)?$/;
      expect(props(r).EventPattern).toMatchObject({ source: [expect.stringMatching(sources)] });
      const replays = (props(r).EventPattern as Record<string, unknown>)['replay-name'];
      if (isProjection(String(props(r).Name))) expect(replays).toBeUndefined();
      else expect(replays).toEqual([{ exists: false }]);
    }
  });
});
