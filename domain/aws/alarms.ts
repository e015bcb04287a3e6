import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';

/**
 * CloudWatch alarms of the workload account, for alarm-gated rollouts: a deploy rolls back while
 * one of its `DeployConfig.RollbackAlarms` is in ALARM. These functions read and describe alarm
 * states; the step that calls them decides what a tripped alarm means for the deploy.
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmState {
  name: string;
  state: AlarmStateValue;
  /** CloudWatch's `StateReason`, e.g. `Threshold Crossed: 1 datapoint [12.0 (...)] was greater than ...`. */
  reason?: string;
  /** When the alarm entered its current state (`StateUpdatedTimestamp`). */
  since?: Date;
}

/** DescribeAlarms accepts at most 100 `AlarmNames` per call. */
export const ALARM_NAMES_PER_CALL = 100;

const STATE_VALUES: readonly string[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] satisfies AlarmStateValue[];

interface DescribedAlarm {
  AlarmName?: string;
  StateValue?: string;
  StateReason?: string;
  StateUpdatedTimestamp?: Date;
}

function toAlarmState(alarm: DescribedAlarm & { AlarmName: string }): AlarmState {
  return {
    name: alarm.AlarmName,
    // A state this code does not know (none exists today) is neither known-good nor known-bad.
    state: STATE_VALUES.includes(alarm.StateValue ?? '') ? (alarm.StateValue as AlarmStateValue) : 'INSUFFICIENT_DATA',
    ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
    ...(alarm.StateUpdatedTimestamp ? { since: alarm.StateUpdatedTimestamp } : {}),
  };
}

/**
 * The states of the named alarms, metric and composite ones alike (DescribeAlarms returns only
 * metric alarms unless asked for both), in the order of `names`; `missing` lists the names no
 * alarm of the account carries (a typo in the deploy config, or a deleted alarm). No names, no
 * call: DescribeAlarms without `AlarmNames` would describe every alarm of the account.
 */
export async function describeAlarmStates(
  cw: CloudWatchClient,
  names: string[],
): Promise<{ alarms: AlarmState[]; missing: string[] }> {
  const wanted = [...new Set(names)];
  const found = new Map<string, AlarmState>();
  for (let i = 0; i < wanted.length; i += ALARM_NAMES_PER_CALL) {
    const chunk = wanted.slice(i, i + ALARM_NAMES_PER_CALL);
    let nextToken: string | undefined;
    do {
      const out = await cw.send(
        new DescribeAlarmsCommand({
          AlarmNames: chunk,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          MaxRecords: ALARM_NAMES_PER_CALL,
          NextToken: nextToken,
        }),
      );
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName && chunk.includes(alarm.AlarmName)) {
          found.set(alarm.AlarmName, toAlarmState({ ...alarm, AlarmName: alarm.AlarmName }));
        }
      }
      nextToken = out.NextToken || undefined;
    } while (nextToken);
  }
  return {
    alarms: wanted.flatMap((name) => found.get(name) ?? []),
    missing: wanted.filter((name) => !found.has(name)),
  };
}

/**
 * The alarms in ALARM for at least `graceSeconds` at `now`, so a brief spike during a shift does
 * not roll the deploy back. An alarm without a usable timestamp counts as tripped (fail safe), and
 * a zero grace trips every alarm in ALARM, even one whose timestamp is ahead of our clock.
 */
export function trippedAlarms(states: AlarmState[], opts: { graceSeconds: number; now: Date }): AlarmState[] {
  const { graceSeconds, now } = opts;
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
    throw new RangeError(`graceSeconds must be a finite number >= 0 (got ${graceSeconds})`);
  }
  return states.filter((alarm) => {
    if (alarm.state !== 'ALARM') return false;
    const since = alarm.since?.getTime();
    if (graceSeconds === 0 || since === undefined || Number.isNaN(since)) return true;
    return now.getTime() - since >= graceSeconds * 1000;
  });
}

/** `2026-11-26T20:01:02Z`: whole seconds are enough for a person reading the error. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * One sentence for a DeployFailed error, e.g.
 * `alarm "shop-5xx" is in ALARM since 2026-11-26T20:01:02Z (Threshold Crossed: ...)`; several
 * alarms are joined with "; ".
 */
export function describeTripped(alarms: AlarmState[]): string {
  if (alarms.length === 0) return 'no alarm is in ALARM';
  return alarms
    .map((alarm) => {
      const since = alarm.since && !Number.isNaN(alarm.since.getTime()) ? ` since ${isoSeconds(alarm.since)}` : '';
      const reason = alarm.reason?.trim() ? ` (${alarm.reason.trim()})` : '';
      return `alarm "${alarm.name}" is in ${alarm.state}${since}${reason}`;
    })
    .join('; ');
}
