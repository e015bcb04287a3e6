import { CloudWatchClient, DescribeAlarmsCommand, type CompositeAlarm, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { describeAlarmStates, describeTripped, trippedAlarms, type AlarmState } from '../../../domain/aws/alarms';

const cwMock = mockClient(CloudWatchClient);
const cw = new CloudWatchClient({ region: 'us-east-1' });
const T0 = new Date('2026-11-26T20:01:02.345Z');
const at = (secondsAfterT0: number) => new Date(T0.getTime() + secondsAfterT0 * 1000);

const metricAlarm = (name: string, state = 'OK', extra: Partial<MetricAlarm> = {}): MetricAlarm => ({
  AlarmName: name,
  StateValue: state as MetricAlarm['StateValue'],
  StateReason: `reason of ${name}`,
  StateUpdatedTimestamp: T0,
  ...extra,
});
const compositeAlarm = (name: string, state = 'OK'): CompositeAlarm => ({
  AlarmName: name,
  AlarmRule: 'ALARM("x")',
  StateValue: state as CompositeAlarm['StateValue'],
  StateReason: `reason of ${name}`,
  StateUpdatedTimestamp: T0,
});
const names = (count: number, prefix = 'alarm') => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
const inputs = () => cwMock.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);

describe('Function: describeAlarmStates', () => {
  afterEach(() => cwMock.reset());

  it('asks for metric and composite alarms by name, and returns both in the order asked', async () => {
    // Prepare
    cwMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm('shop-5xx', 'ALARM')],
      CompositeAlarms: [compositeAlarm('shop-health', 'INSUFFICIENT_DATA')],
    });

    // Act
    const result = await describeAlarmStates(cw, ['shop-health', 'shop-5xx']);

    // Assess
    expect(inputs()).toEqual([
      { AlarmNames: ['shop-health', 'shop-5xx'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: undefined },
    ]);
    expect(result).toEqual({
      alarms: [
        { name: 'shop-health', state: 'INSUFFICIENT_DATA', reason: 'reason of shop-health', since: T0 },
        { name: 'shop-5xx', state: 'ALARM', reason: 'reason of shop-5xx', since: T0 },
      ],
      missing: [],
    });
  });

  it('lists the names no alarm carries as missing', async () => {
    cwMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('present')], CompositeAlarms: [] });

    const result = await describeAlarmStates(cw, ['typo', 'present', 'deleted']);

    expect(result.alarms.map((a) => a.name)).toEqual(['present']);
    expect(result.missing).toEqual(['typo', 'deleted']);
  });

  it('makes no call for no names (DescribeAlarms without names describes every alarm)', async () => {
    expect(await describeAlarmStates(cw, [])).toEqual({ alarms: [], missing: [] });
    expect(inputs()).toEqual([]);
  });

  it.each([
    [100, [100]],
    [101, [100, 1]],
    [250, [100, 100, 50]],
  ])('asks for %i names in calls of at most 100 names (%j)', async (count, chunkSizes) => {
    cwMock.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.map((name) => metricAlarm(name)),
    }));

    const result = await describeAlarmStates(cw, names(count));

    expect(inputs().map((i) => i.AlarmNames!.length)).toEqual(chunkSizes);
    expect(inputs().flatMap((i) => i.AlarmNames)).toEqual(names(count));
    expect(result.alarms.map((a) => a.name)).toEqual(names(count));
    expect(result.missing).toEqual([]);
  });

  it('asks for a name given twice once, and reports it once', async () => {
    cwMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('a')] });

    const result = await describeAlarmStates(cw, ['a', 'b', 'a']);

    expect(inputs()[0]!.AlarmNames).toEqual(['a', 'b']);
    expect(result).toEqual({ alarms: [{ name: 'a', state: 'OK', reason: 'reason of a', since: T0 }], missing: ['b'] });
  });

  it('follows NextToken within each chunk', async () => {
    // Prepare: the first chunk comes in two pages, the second in one.
    cwMock
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [metricAlarm('alarm-0')], NextToken: 'page-2' })
      .resolvesOnce({ CompositeAlarms: [compositeAlarm('alarm-99')], NextToken: '' })
      .resolvesOnce({ MetricAlarms: [metricAlarm('alarm-100', 'ALARM')] });

    // Act
    const result = await describeAlarmStates(cw, names(101));

    // Assess
    expect(inputs().map((i) => [i.AlarmNames!.length, i.NextToken])).toEqual([
      [100, undefined],
      [100, 'page-2'],
      [1, undefined],
    ]);
    expect(inputs()[1]!.AlarmNames).toEqual(names(100));
    expect(result.alarms.map((a) => [a.name, a.state])).toEqual([
      ['alarm-0', 'OK'],
      ['alarm-99', 'OK'],
      ['alarm-100', 'ALARM'],
    ]);
    expect(result.missing).toHaveLength(98);
    expect(result.missing).not.toContain('alarm-0');
  });

  it('ignores alarms it did not ask for, and leaves out an absent reason or timestamp', async () => {
    cwMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        metricAlarm('stranger', 'ALARM'),
        { AlarmName: 'bare', StateValue: 'ALARM' },
        metricAlarm('odd', 'SOMETHING_NEW'),
      ],
    });

    const result = await describeAlarmStates(cw, ['bare', 'odd']);

    expect(result.alarms).toEqual([
      { name: 'bare', state: 'ALARM' },
      // A state value unknown to this code is reported as not known to be OK or ALARM.
      { name: 'odd', state: 'INSUFFICIENT_DATA', reason: 'reason of odd', since: T0 },
    ]);
  });

  it('lets an SDK error reach the caller', async () => {
    cwMock.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(describeAlarmStates(cw, ['a'])).rejects.toMatchObject({ name: 'Throttling' });
  });
});

describe('Function: trippedAlarms', () => {
  const alarm = (state: AlarmState['state'], since?: Date, name = 'shop-5xx'): AlarmState => ({ name, state, since });

  it.each([
    ['exactly the grace', 60, 60, true],
    ['a millisecond less than the grace', 60, 59.999, false],
    ['longer than the grace', 60, 3600, true],
    ['no time with no grace', 0, 0, true],
    ['a timestamp ahead of our clock with no grace', 0, -5, true],
    ['a timestamp ahead of our clock with a grace', 60, -5, false],
  ])('at %s (grace %is, %ss in ALARM) trips: %s', (_label, graceSeconds, elapsed, tripped) => {
    const states = [alarm('ALARM', T0)];

    expect(trippedAlarms(states, { graceSeconds, now: at(elapsed) })).toEqual(tripped ? states : []);
  });

  it('trips an alarm in ALARM without a usable timestamp, whatever the grace', () => {
    const states = [alarm('ALARM', undefined, 'no-time'), alarm('ALARM', new Date(Number.NaN), 'bad-time')];

    expect(trippedAlarms(states, { graceSeconds: 3600, now: T0 })).toEqual(states);
  });

  it('never trips OK or INSUFFICIENT_DATA', () => {
    const states = [alarm('OK', T0, 'ok'), alarm('INSUFFICIENT_DATA', undefined, 'no-data'), alarm('ALARM', T0, 'bad')];

    expect(trippedAlarms(states, { graceSeconds: 0, now: at(1) }).map((a) => a.name)).toEqual(['bad']);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects a grace of %s seconds', (graceSeconds) => {
    expect(() => trippedAlarms([], { graceSeconds, now: T0 })).toThrow(`graceSeconds must be a finite number >= 0 (got ${graceSeconds})`);
  });
});

describe('Function: describeTripped', () => {
  it('names the alarm, its state, since when (whole seconds, UTC) and why', () => {
    const text = describeTripped([{ name: 'shop-5xx', state: 'ALARM', since: T0, reason: 'Threshold Crossed: 1 datapoint was greater than 5.0' }]);

    expect(text).toBe('alarm "shop-5xx" is in ALARM since 2026-11-26T20:01:02Z (Threshold Crossed: 1 datapoint was greater than 5.0)');
  });

  it('joins several alarms in one sentence and leaves out what is unknown', () => {
    const text = describeTripped([
      { name: 'a', state: 'ALARM', since: T0 },
      { name: 'b', state: 'ALARM', reason: '  ' },
      { name: 'c', state: 'ALARM', reason: 'composite' },
    ]);

    expect(text).toBe('alarm "a" is in ALARM since 2026-11-26T20:01:02Z; alarm "b" is in ALARM; alarm "c" is in ALARM (composite)');
  });

  it('says so when there is nothing to describe', () => {
    expect(describeTripped([])).toBe('no alarm is in ALARM');
  });
});
