import { describe, expect, it } from 'vitest';
import { DeployRequested, describeIssues, parseDeployRequested } from '../../../events/client';

const valid = {
  AccountCanonicalSlug: 'acme-prod',
  ServiceName: 'web',
  AmiId: 'ami-0123456789abcdef0',
};

/** The reasons a deployer would get for `detail`; fails the test if the detail is accepted. */
const reasonsFor = (detail: unknown): string[] => {
  const result = parseDeployRequested(detail);
  if (result.ok) throw new Error(`expected ${JSON.stringify(detail)} to be rejected`);
  return result.reasons;
};

const withConfig = (config: Record<string, unknown>) => ({ ...valid, DeployConfig: config });

describe('Schema: DeployRequested', () => {
  describe('defaults', () => {
    it('applies every DeployConfig default when DeployConfig is absent', () => {
      // Act
      const parsed = DeployRequested.parse(valid);

      // Assess
      expect(parsed.DeployConfig).toStrictEqual({
        BakeTime: 60,
        TrafficShiftPerStep: 5,
        WaitPerStep: 15,
        HealthTimeout: 300,
        OnConcurrentDeploy: 'rollback',
        SkipNotifications: false,
      });
      expect(parsed.DeployConfig).not.toHaveProperty('AllowUndeploy');
      expect(parsed.DeployId).toBeUndefined();
    });

    it('fills the remaining defaults when DeployConfig is partial', () => {
      // Act
      const parsed = DeployRequested.parse(withConfig({ BakeTime: 0, AllowUndeploy: false }));

      // Assess
      expect(parsed.DeployConfig).toStrictEqual({
        BakeTime: 0,
        TrafficShiftPerStep: 5,
        WaitPerStep: 15,
        HealthTimeout: 300,
        OnConcurrentDeploy: 'rollback',
        AllowUndeploy: false,
        SkipNotifications: false,
      });
    });

    it('keeps every option that is given', () => {
      // Prepare
      const config = {
        BakeTime: 604800,
        TrafficShiftPerStep: 100,
        WaitPerStep: 0,
        HealthTimeout: 86400,
        OnConcurrentDeploy: 'fail',
        AllowUndeploy: true,
        AutomaticUndeployMinutes: 525600,
        SkipNotifications: true,
      };

      // Act
      const parsed = DeployRequested.parse({ ...withConfig(config), DeployId: 'deploy-1' });

      // Assess
      expect(parsed.DeployConfig).toStrictEqual(config);
      expect(parsed.DeployId).toBe('deploy-1');
    });

    it('does not share the default DeployConfig between parses', () => {
      // Act
      const first = DeployRequested.parse(valid);
      first.DeployConfig.BakeTime = 1;
      const second = DeployRequested.parse(valid);

      // Assess
      expect(second.DeployConfig.BakeTime).toBe(60);
    });
  });

  describe('DeployConfig', () => {
    it.each([
      ['a negative BakeTime', { BakeTime: -1 }, 'DeployConfig.BakeTime: must not be negative'],
      ['a BakeTime over a week', { BakeTime: 604801 }, 'DeployConfig.BakeTime: must be at most 604800 seconds'],
      ['a NaN BakeTime', { BakeTime: NaN }, 'DeployConfig.BakeTime: must be a number of seconds'],
      ['an infinite BakeTime', { BakeTime: Infinity }, 'DeployConfig.BakeTime: must be a number of seconds'],
      ['a string BakeTime', { BakeTime: '60' }, 'DeployConfig.BakeTime: must be a number of seconds'],
      ['a null BakeTime', { BakeTime: null }, 'DeployConfig.BakeTime: must be a number of seconds'],
      ['a negative WaitPerStep', { WaitPerStep: -0.5 }, 'DeployConfig.WaitPerStep: must not be negative'],
      ['a NaN WaitPerStep', { WaitPerStep: NaN }, 'DeployConfig.WaitPerStep: must be a number of seconds'],
      ['an infinite WaitPerStep', { WaitPerStep: -Infinity }, 'DeployConfig.WaitPerStep: must be a number of seconds'],
      ['a negative HealthTimeout', { HealthTimeout: -300 }, 'DeployConfig.HealthTimeout: must not be negative'],
      ['a HealthTimeout over a day', { HealthTimeout: 86401 }, 'DeployConfig.HealthTimeout: must be at most 86400 seconds'],
      ['an infinite HealthTimeout', { HealthTimeout: Infinity }, 'DeployConfig.HealthTimeout: must be a number of seconds'],
      ['TrafficShiftPerStep 0', { TrafficShiftPerStep: 0 }, 'DeployConfig.TrafficShiftPerStep: must be between 1 and 100'],
      ['TrafficShiftPerStep 101', { TrafficShiftPerStep: 101 }, 'DeployConfig.TrafficShiftPerStep: must be between 1 and 100'],
      ['a negative TrafficShiftPerStep', { TrafficShiftPerStep: -5 }, 'DeployConfig.TrafficShiftPerStep: must be between 1 and 100'],
      ['a fractional TrafficShiftPerStep', { TrafficShiftPerStep: 2.5 }, 'DeployConfig.TrafficShiftPerStep: must be a whole percentage'],
      ['a NaN TrafficShiftPerStep', { TrafficShiftPerStep: NaN }, 'DeployConfig.TrafficShiftPerStep: must be a number'],
      ['an unknown OnConcurrentDeploy', { OnConcurrentDeploy: 'queue' }, 'DeployConfig.OnConcurrentDeploy: must be "fail" or "rollback"'],
      ['a mis-cased OnConcurrentDeploy', { OnConcurrentDeploy: 'Rollback' }, 'DeployConfig.OnConcurrentDeploy: must be "fail" or "rollback"'],
      ['a string AllowUndeploy', { AllowUndeploy: 'yes' }, 'DeployConfig.AllowUndeploy: must be true or false'],
      ['a string SkipNotifications', { SkipNotifications: 'true' }, 'DeployConfig.SkipNotifications: must be true or false'],
      ['AutomaticUndeployMinutes 0', { AutomaticUndeployMinutes: 0 }, 'DeployConfig.AutomaticUndeployMinutes: must be positive'],
      ['a fractional AutomaticUndeployMinutes', { AutomaticUndeployMinutes: 1.5 }, 'DeployConfig.AutomaticUndeployMinutes: must be a whole number of minutes'],
      ['AutomaticUndeployMinutes over a year', { AutomaticUndeployMinutes: 525601 }, 'DeployConfig.AutomaticUndeployMinutes: must be at most 525600 (a year)'],
      ['an unknown key', { BakeTme: 60 }, 'DeployConfig: unknown field(s) "BakeTme" (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)'],
      ['two unknown keys', { Foo: 1, Bar: 2 }, 'DeployConfig: unknown field(s) "Foo", "Bar" (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)'],
    ])('rejects %s', (_label, config, reason) => {
      // Act
      const reasons = reasonsFor(withConfig(config));

      // Assess
      expect(reasons).toStrictEqual([reason]);
    });

    it.each([
      ['a string', 'fast'],
      ['an array', []],
      ['null', null],
    ])('rejects a DeployConfig that is %s', (_label, config) => {
      expect(reasonsFor({ ...valid, DeployConfig: config })).toStrictEqual([
        expect.stringMatching(/^DeployConfig: Invalid input: expected object/),
      ]);
    });
  });

  describe('top-level fields', () => {
    it.each([
      ['AccountCanonicalSlug', 'AccountCanonicalSlug'],
      ['ServiceName', 'ServiceName'],
      ['AmiId', 'AmiId'],
    ])('reports a missing %s as required', (field) => {
      // Prepare
      const detail: Record<string, unknown> = { ...valid };
      delete detail[field];

      // Act
      const reasons = reasonsFor(detail);

      // Assess
      expect(reasons).toStrictEqual([`${field} is required`]);
    });

    it('reports a field of the wrong type by its own reason, not as required', () => {
      // Act
      const reasons = reasonsFor({ ...valid, AmiId: 42, ServiceName: 7 });

      // Assess
      expect(reasons).toStrictEqual(['ServiceName: Invalid input: expected string, received number', 'AmiId: must be a string']);
    });

    it('reports a missing field as required when parsed with reportInput', () => {
      // Prepare
      const result = DeployRequested.safeParse({ ...valid, AmiId: undefined, ServiceName: 7 }, { reportInput: true });
      if (result.success) throw new Error('expected a rejection');

      // Act
      const reasons = describeIssues(result.error);

      // Assess
      expect(reasons).toStrictEqual(['ServiceName: Invalid input: expected string, received number', 'AmiId is required']);
    });

    it('rejects an unknown top-level key', () => {
      expect(reasonsFor({ ...valid, Region: 'us-east-1' })).toStrictEqual(['unknown field(s) "Region" (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)']);
    });

    it('rejects an invalid AmiId with the parser reason', () => {
      expect(reasonsFor({ ...valid, AmiId: '$launchtemplate:0' })).toStrictEqual([
        expect.stringMatching(/^AmiId: \$launchtemplate needs a version/),
      ]);
    });

    it.each([
      ['a string', 'deploy please'],
      ['null', null],
      ['an array', [valid]],
      ['a number', 42],
      ['undefined', undefined],
    ])('rejects a detail that is %s', (_label, detail) => {
      expect(reasonsFor(detail)).toStrictEqual(['the event detail must be a JSON object']);
    });
  });

  // The original accepts longer service names than account slugs: up to what AWS's names and tags allow.
  describe.each([
    ['AccountCanonicalSlug', 64],
    ['ServiceName', 191],
  ] as const)('%s', (field, max) => {
    it.each([
      ['one character', 'a'],
      [`${max} characters`, 'a'.repeat(max)],
      ['dots, dashes and underscores', 'my.svc_name-2'],
      ['a trailing dot', 'web.'],
    ])('accepts %s', (_label, value) => {
      expect(DeployRequested.parse({ ...valid, [field]: value })[field as keyof typeof valid]).toBe(value);
    });

    it.each([
      ['an empty string', ''],
      ['a slash', 'a/b'],
      ['a leading slash', '/etc'],
      ['a double dot', 'a..b'],
      ['only dots', '..'],
      ['a path escape', '../x'],
      ['a space', 'my service'],
      [`${max + 1} characters`, 'a'.repeat(max + 1)],
      ['a leading dot', '.web'],
      ['a leading underscore', '_x'],
      ['a leading dash', '-x'],
      ['a colon', 'a:b'],
    ])('rejects %s', (_label, value) => {
      expect(reasonsFor({ ...valid, [field]: value })).toStrictEqual([`${field}: must be 1-${max} characters of A-Z a-z 0-9 . _ - (no "/" or "..")`]);
    });
  });

  describe('DeployId', () => {
    it.each([
      ['2 characters', 'ab'],
      ['64 characters', 'd'.repeat(64)],
      ['every allowed symbol', 'a+=,.@_-z'],
    ])('accepts %s', (_label, value) => {
      expect(DeployRequested.parse({ ...valid, DeployId: value }).DeployId).toBe(value);
    });

    it.each([
      ['1 character', 'a'],
      ['65 characters', 'd'.repeat(65)],
      ['a space', 'deploy 1'],
      ['a slash', 'deploy/1'],
      ['a colon', 'deploy:1'],
      ['a non-ASCII letter', 'déploy'],
    ])('rejects %s', (_label, value) => {
      expect(reasonsFor({ ...valid, DeployId: value })).toStrictEqual([
        'DeployId: must be 2-64 characters of A-Z a-z 0-9 + = , . @ _ -',
      ]);
    });
  });

  describe('Function: describeIssues', () => {
    it('gives every invalid field its own reason in one pass', () => {
      // Prepare
      const detail = {
        AccountCanonicalSlug: '../other',
        ServiceName: 'a'.repeat(192),
        AmiId: 'ami-nope',
        DeployId: 'x',
        DeployConfig: {
          BakeTime: -1,
          TrafficShiftPerStep: 150,
          WaitPerStep: NaN,
          HealthTimeout: Infinity,
          OnConcurrentDeploy: 'ignore',
          Extra: true,
        },
        Unexpected: 1,
      };

      // Act
      const reasons = reasonsFor(detail);

      // Assess
      expect(reasons).toHaveLength(11);
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^AccountCanonicalSlug: /),
          expect.stringMatching(/^ServiceName: /),
          expect.stringMatching(/^AmiId: AmiId "ami-nope" is not an AMI id/),
          expect.stringMatching(/^DeployId: /),
          'DeployConfig.BakeTime: must not be negative',
          'DeployConfig.TrafficShiftPerStep: must be between 1 and 100',
          'DeployConfig.WaitPerStep: must be a number of seconds',
          'DeployConfig.HealthTimeout: must be a number of seconds',
          'DeployConfig.OnConcurrentDeploy: must be "fail" or "rollback"',
          'DeployConfig: unknown field(s) "Extra" (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)',
          'unknown field(s) "Unexpected" (the original Deployomat ignored unknown fields; Deployomat refuses them, so a typo never deploys with defaults)',
        ]),
      );
    });

    it('reports all missing required fields together', () => {
      expect(reasonsFor({})).toStrictEqual(['AccountCanonicalSlug is required', 'ServiceName is required', 'AmiId is required']);
    });
  });
});
