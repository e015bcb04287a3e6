import { describe, expect, it } from 'vitest';
import { parseAmiCommand } from '../../../events/ami-command';

const reasonOf = (value: string): string => {
  const result = parseAmiCommand(value);
  if (result.ok) throw new Error(`expected "${value}" to be rejected`);
  return result.reason;
};

describe('Function: parseAmiCommand', () => {
  describe('resolve:ssm: (as a launch template takes it)', () => {
    it.each([
      ['a path', 'resolve:ssm:/acme/web/ami', '/acme/web/ami'],
      ["AWS's public parameter", 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'],
      ['a version', 'resolve:ssm:/acme/web/ami:3', '/acme/web/ami:3'],
      ['a plain name', 'resolve:ssm:web-ami', 'web-ami'],
    ])('accepts %s', (_label, value, parameter) => {
      expect(parseAmiCommand(value)).toEqual({ ok: true, command: { kind: 'ssm-parameter', parameter } });
    });

    it.each([
      ['no name', 'resolve:ssm:'],
      ['a space', 'resolve:ssm:/a b'],
      ['an empty selector', 'resolve:ssm:/a:'],
    ])('rejects %s', (_label, value) => {
      expect(reasonOf(value)).toMatch(/^resolve:ssm: needs an SSM parameter name/);
    });
  });

  describe('plain AMI ids', () => {
    it.each(['ami-12345678', 'ami-0123456789abcdef0', 'ami-deadbeef', 'ami-0a1b2c3d4e'])('accepts %s', (value) => {
      // Act
      const result = parseAmiCommand(value);

      // Assess
      expect(result).toEqual({ ok: true, command: { kind: 'ami', amiId: value } });
    });

    it.each([
      ['an empty string', ''],
      ['a 7-digit id', 'ami-1234567'],
      ['an 18-digit id', 'ami-0123456789abcdef01'],
      ['upper-case hex', 'ami-DEADBEEF'],
      ['an upper-case prefix', 'AMI-12345678'],
      ['a non-hex digit', 'ami-1234567g'],
      ['a missing dash', 'ami12345678'],
      ['leading whitespace', ' ami-12345678'],
      ['a trailing newline', 'ami-12345678\n'],
      ['another resource id', 'i-0123456789abcdef0'],
      ['a bare prefix', 'ami-'],
    ])('rejects %s', (_label, value) => {
      // Act
      const result = parseAmiCommand(value);

      // Assess
      expect(result.ok).toBe(false);
      expect(reasonOf(value)).toContain('is not an AMI id');
    });

    it('quotes the rejected value in the reason', () => {
      expect(reasonOf('ami-nope')).toBe('AmiId "ami-nope" is not an AMI id (ami-xxxxxxxx), resolve:ssm:<parameter> or a $ command');
    });
  });

  describe('$name-prefix', () => {
    it.each([
      ['3 characters', 'abc'],
      ['128 characters', 'a'.repeat(128)],
      ['every allowed character', "Az09()[] ./-'@_"],
      ['a typical image name', 'my-service/base 2024.01 (x86_64)'],
    ])('accepts %s', (_label, prefix) => {
      // Act
      const result = parseAmiCommand(`$name-prefix:${prefix}`);

      // Assess
      expect(result).toEqual({ ok: true, command: { kind: 'name-prefix', prefix } });
    });

    it.each([
      ['a missing argument', '$name-prefix'],
      ['an empty argument', '$name-prefix:'],
      ['2 characters', '$name-prefix:ab'],
      ['129 characters', `$name-prefix:${'a'.repeat(129)}`],
      ['an asterisk', '$name-prefix:abc*'],
      ['a colon', '$name-prefix:a:b:c'],
      ['a newline', '$name-prefix:abc\ndef'],
      ['a non-ASCII letter', '$name-prefix:café'],
      ['a dollar sign', '$name-prefix:$abc'],
      ['a double quote', '$name-prefix:ab"c'],
    ])('rejects %s', (_label, value) => {
      // Act
      const result = parseAmiCommand(value);

      // Assess
      expect(result.ok).toBe(false);
      expect(reasonOf(value)).toMatch(/^\$name-prefix needs 3-128 characters/);
    });

    it('quotes the rejected prefix in the reason', () => {
      expect(reasonOf('$name-prefix:a*')).toContain('got "a*"');
    });

    it('quotes an empty value when the argument is missing', () => {
      expect(reasonOf('$name-prefix')).toContain('got ""');
    });
  });

  describe('$launchtemplate', () => {
    it.each([
      ['1', { kind: 'number', number: 1 }],
      ['42', { kind: 'number', number: 42 }],
      ['123456789', { kind: 'number', number: 123456789 }],
      ['$Latest', { kind: 'latest' }],
      ['$Default', { kind: 'default' }],
      ['$LatestMinus:0', { kind: 'latest-minus', minus: 0 }],
      ['$LatestMinus:1', { kind: 'latest-minus', minus: 1 }],
      ['$LatestMinus:3', { kind: 'latest-minus', minus: 3 }],
    ])('accepts version %s', (arg, version) => {
      // Act
      const result = parseAmiCommand(`$launchtemplate:${arg}`);

      // Assess
      expect(result).toEqual({ ok: true, command: { kind: 'launch-template', version } });
    });

    it.each([
      ['a missing version', '$launchtemplate'],
      ['an empty version', '$launchtemplate:'],
      ['version 0', '$launchtemplate:0'],
      ['a negative version', '$launchtemplate:-1'],
      ['a leading zero', '$launchtemplate:01'],
      ['a fractional version', '$launchtemplate:1.5'],
      ['letters', '$launchtemplate:abc'],
      ['a 10-digit version', '$launchtemplate:1234567890'],
      ['lower-case $latest', '$launchtemplate:$latest'],
      ['lower-case $default', '$launchtemplate:$default'],
      ['a negative $LatestMinus', '$launchtemplate:$LatestMinus:-1'],
      ['$LatestMinus with letters', '$launchtemplate:$LatestMinus:two'],
      ['$LatestMinus with an empty k', '$launchtemplate:$LatestMinus:'],
      ['$LatestMinus without k', '$launchtemplate:$LatestMinus'],
      ['$Latest with trailing text', '$launchtemplate:$Latest:1'],
    ])('rejects %s', (_label, value) => {
      // Act
      const result = parseAmiCommand(value);

      // Assess
      expect(result.ok).toBe(false);
      expect(reasonOf(value)).toMatch(/^\$launchtemplate needs a version: a number, \$Latest, \$Default or \$LatestMinus:<k>/);
    });

    it('quotes the rejected version in the reason', () => {
      expect(reasonOf('$launchtemplate:$LatestMinus:x')).toContain('got "$LatestMinus:x"');
    });
  });

  describe('unknown commands', () => {
    it.each([
      ['$foo', '$foo'],
      ['$', '$'],
      ['$Name-Prefix:abc', '$Name-Prefix'],
      ['$launchTemplate:1', '$launchTemplate'],
      ['$ami:ami-12345678', '$ami'],
    ])('rejects %s and names the command', (value, name) => {
      // Act
      const reason = reasonOf(value);

      // Assess
      expect(reason).toContain(`unknown AmiId command "${name}"`);
      expect(reason).toContain('use $name-prefix:<prefix> or $launchtemplate:');
    });
  });

  describe('hostile input', () => {
    it.each([
      ['a long plain value', 'x'.repeat(10_000)],
      ['a long prefix', `$name-prefix:${'*'.repeat(10_000)}`],
      ['a long launch template version', `$launchtemplate:${'9'.repeat(10_000)}`],
      ['a long command name', `$${'x'.repeat(10_000)}`],
    ])('clips %s in the reason', (_label, value) => {
      // Act
      const reason = reasonOf(value);

      // Assess
      expect(reason.length).toBeLessThan(300);
      expect(reason).toMatch(/[x*9]{76}\.\.\."/);
    });

    it('quotes a value of exactly 80 characters unclipped', () => {
      // Prepare
      const value = 'y'.repeat(80);

      // Act
      const reason = reasonOf(value);

      // Assess
      expect(reason).toContain(`"${value}"`);
      expect(reason).not.toContain('...');
    });

    it('clips a value of 81 characters to 77 plus an ellipsis', () => {
      // Prepare
      const value = 'y'.repeat(81);

      // Act
      const reason = reasonOf(value);

      // Assess
      expect(reason).toContain(`"${'y'.repeat(77)}..."`);
      expect(reason).not.toContain('y'.repeat(78));
    });
  });
});
