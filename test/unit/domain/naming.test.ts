import { describe, expect, it } from 'vitest';
import { asgName, deployTimestamp, nextDeployTimestamp, parseDeployTimestamp, targetGroupName, templateAsgName } from '../../../domain/naming';

const TIMESTAMP = '20261126T171731Z';
const TARGET_GROUP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

describe('Function: deployTimestamp', () => {
  it.each([
    ['a UTC time', new Date(Date.UTC(2026, 10, 26, 17, 17, 31)), '20261126T171731Z'],
    ['milliseconds', new Date(Date.UTC(2026, 10, 26, 17, 17, 31, 999)), '20261126T171731Z'],
    ['a time given with an offset', new Date('2026-11-27T06:17:31+13:00'), '20261126T171731Z'],
    ['single-digit fields', new Date(Date.UTC(2027, 0, 2, 3, 4, 5)), '20270102T030405Z'],
    ['midnight on new year', new Date(Date.UTC(2030, 0, 1)), '20300101T000000Z'],
    ['a leap day', new Date(Date.UTC(2028, 1, 29, 23, 59, 59)), '20280229T235959Z'],
  ])('formats %s as yyyymmddThhmmssZ in UTC', (_label, date, expected) => {
    // Act
    const timestamp = deployTimestamp(date);

    // Assess
    expect(timestamp).toBe(expected);
    expect(timestamp).toMatch(/^\d{8}T\d{6}Z$/);
  });
});

describe('Function: asgName', () => {
  it('joins the service name and the timestamp', () => {
    expect(asgName('web', TIMESTAMP)).toBe('web-20261126T171731Z');
  });

  it('keeps a 64-character service name whole', () => {
    // Prepare
    const service = 's'.repeat(64);

    // Act
    const name = asgName(service, TIMESTAMP);

    // Assess
    expect(name).toBe(`${service}-${TIMESTAMP}`);
    expect(name.length).toBeLessThanOrEqual(255);
  });
});

describe('Function: templateAsgName', () => {
  it('appends -template to the service name', () => {
    expect(templateAsgName('web')).toBe('web-template');
  });
});

describe('Function: targetGroupName', () => {
  it.each([
    ['web', 'web-20261126T171731Z'],
    ['api.v2', 'api-v2-20261126T171731Z'],
    ['my_service', 'my-service-20261126T171731Z'],
    ['_x', 'x-20261126T171731Z'],
    ['.web', 'web-20261126T171731Z'],
    ['--web', 'web-20261126T171731Z'],
    ['___', 'svc-20261126T171731Z'],
    ['...', 'svc-20261126T171731Z'],
    ['a-very-long-service-name', 'a-very-long-ser-20261126T171731Z'],
  ])('names the target group of %s %s', (service, expected) => {
    expect(targetGroupName(service, TIMESTAMP)).toBe(expected);
  });

  it.each([
    'web',
    'a',
    '_x',
    '.web',
    '-',
    's'.repeat(64),
    'x'.repeat(15),
    'x'.repeat(16),
    'my.service.with.dots',
    'my_service_with_underscores',
    '_'.repeat(64),
    'Ünïcødé-service',
    'svc name with spaces',
    '...............x',
  ])('gives %j a valid target group name', (service) => {
    // Act
    const name = targetGroupName(service, TIMESTAMP);

    // Assess
    expect(name.length).toBeLessThanOrEqual(32);
    expect(name).toMatch(TARGET_GROUP_NAME);
    expect(name.endsWith(`-${TIMESTAMP}`)).toBe(true);
  });

  it('is deterministic', () => {
    expect(targetGroupName('my.service', TIMESTAMP)).toBe(targetGroupName('my.service', TIMESTAMP));
  });

  it.each([1, 2, 4])('gives the template\'s target group %i its own valid name', (index) => {
    for (const service of ['web', 's'.repeat(64), '-', 'x'.repeat(14) + '.', 'Ünïcødé-service']) {
      const name = targetGroupName(service, TIMESTAMP, index);
      expect(name.length).toBeLessThanOrEqual(32);
      expect(name).toMatch(TARGET_GROUP_NAME);
      expect(name.endsWith(`-${index}-${TIMESTAMP}`)).toBe(true);
      expect(name).not.toBe(targetGroupName(service, TIMESTAMP, 0));
    }
  });

  it.each([-1, 5, 1.5])('refuses target group index %d', (index) => {
    expect(() => targetGroupName('web', TIMESTAMP, index)).toThrow(RangeError);
  });

  it('gives different deploys of a service different names', () => {
    // Prepare
    const later = deployTimestamp(new Date(Date.UTC(2026, 10, 26, 17, 17, 32)));

    // Act & Assess
    expect(targetGroupName('s'.repeat(64), TIMESTAMP)).not.toBe(targetGroupName('s'.repeat(64), later));
  });
});

describe('Function: nextDeployTimestamp', () => {
  it('uses the current time when the previous deploy is older', () => {
    expect(nextDeployTimestamp(new Date('2026-11-26T17:00:05Z'), '20261126T170000Z')).toBe('20261126T170005Z');
  });

  it('moves one second past a previous deploy in the same second', () => {
    expect(nextDeployTimestamp(new Date('2026-11-26T17:00:00.400Z'), '20261126T170000Z')).toBe('20261126T170001Z');
  });

  it('stays ahead of a previous deploy that was itself moved forward', () => {
    expect(nextDeployTimestamp(new Date('2026-11-26T17:00:00.900Z'), '20261126T170002Z')).toBe('20261126T170003Z');
  });

  it('uses the current time without a previous deploy', () => {
    expect(nextDeployTimestamp(new Date('2026-11-26T17:00:00.900Z'), undefined)).toBe('20261126T170000Z');
  });

  it('round-trips through parseDeployTimestamp', () => {
    expect(parseDeployTimestamp('20261126T170002Z')?.toISOString()).toBe('2026-11-26T17:00:02.000Z');
    expect(parseDeployTimestamp('garbage')).toBeUndefined();
  });
});
