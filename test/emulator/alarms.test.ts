/**
 * Reading alarm states (domain/aws/alarms.ts) from the emulator's CloudWatch: metric and composite
 * alarms (PutCompositeAlarm and DescribeAlarms' AlarmTypes are patch "i." of moto_server.py), and
 * injected DescribeAlarms faults, answered in whichever protocol the client speaks ("h.").
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  InvalidParameterValueException,
  PutCompositeAlarmCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
  type CloudWatchClientConfig,
} from '@aws-sdk/client-cloudwatch';
// The client's protocol is configurable; these are the ones CloudWatch's model offers besides JSON.
import { AwsQueryProtocol, AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeAlarmStates, describeTripped, trippedAlarms } from '../../domain/aws/alarms';
import { startEmulator, type Emulator } from '../../infra/local/emulator';

let emulator: Emulator;
let clientConfig: CloudWatchClientConfig;
let cw: CloudWatchClient;
const contentTypes: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  clientConfig = {
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  cw = new CloudWatchClient(clientConfig);
  cw.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      contentTypes.push(headers?.['content-type'] ?? '');
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordContentType' },
  );

  const metricAlarm = (name: string, metric: string) =>
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'AWS/ApplicationELB',
      MetricName: metric,
      Dimensions: [{ Name: 'LoadBalancer', Value: 'app/shop/0123456789abcdef' }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  await cw.send(metricAlarm('shop-5xx', 'HTTPCode_Target_5XX_Count'));
  await cw.send(metricAlarm('shop-4xx', 'HTTPCode_Target_4XX_Count'));
  await cw.send(new PutCompositeAlarmCommand({ AlarmName: 'shop-health', AlarmRule: 'ALARM("shop-5xx") OR ALARM("shop-4xx")' }));
}, 30_000);

afterAll(async () => {
  cw?.destroy();
  await emulator?.stop();
});

describe('Function: describeAlarmStates, against the emulator', () => {
  it('reports metric and composite alarms, the tripped ones with their reason, and the missing names', async () => {
    // Prepare: the emulator evaluates no metrics (nor composite rules); states are set by hand.
    const before = Date.now();
    await cw.send(
      new SetAlarmStateCommand({
        AlarmName: 'shop-5xx',
        StateValue: 'ALARM',
        StateReason: 'Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).',
      }),
    );
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'shop-health', StateValue: 'ALARM', StateReason: 'shop-5xx is in ALARM' }));

    // Act
    const { alarms, missing } = await describeAlarmStates(cw, ['shop-5xx', 'shop-4xx', 'shop-health', 'shop-absent']);

    // Assess
    expect(alarms.map((a) => [a.name, a.state, a.reason])).toEqual([
      ['shop-5xx', 'ALARM', 'Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).'],
      ['shop-4xx', 'OK', 'Unchecked: Initial alarm creation'],
      ['shop-health', 'ALARM', 'shop-5xx is in ALARM'],
    ]);
    expect(missing).toEqual(['shop-absent']);
    const since = alarms[0]!.since!;
    expect(since).toBeInstanceOf(Date);
    expect(since.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(since.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);

    const tripped = trippedAlarms(alarms, { graceSeconds: 0, now: new Date() });
    expect(tripped.map((a) => a.name)).toEqual(['shop-5xx', 'shop-health']);
    expect(trippedAlarms(alarms, { graceSeconds: 300, now: new Date() })).toEqual([]);
    expect(describeTripped(tripped)).toMatch(
      /^alarm "shop-5xx" is in ALARM since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(Threshold Crossed: .*\); alarm "shop-health" is in ALARM since .*Z \(shop-5xx is in ALARM\)$/,
    );

    // The SDK's default protocol is AWS JSON 1.0, which moto serves (it does not serve RPC v2
    // CBOR: should a newer SDK switch its default to it, this is the line that says so).
    expect(new Set(contentTypes)).toEqual(new Set(['application/x-amz-json-1.0']));
  });

  it('lists composite alarms only when asked for them, as AWS does', async () => {
    const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['shop-5xx', 'shop-health'] }));

    expect(out.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['shop-5xx']);
    expect(out.CompositeAlarms ?? []).toEqual([]);
  });

  describe('with an injected DescribeAlarms fault', () => {
    afterEach(async () => {
      await emulator.configure({ faults: [] });
    });

    it.each([
      ['AWS JSON 1.0 (the default)', undefined],
      ['AWS query', AwsQueryProtocol],
      ['Smithy RPC v2 CBOR', AwsSmithyRpcV2CborProtocol],
    ])('passes the SDK error to the caller over %s', async (_label, protocol) => {
      // Prepare: a 400 the SDK does not retry; InvalidParameterValue is a modeled CloudWatch error.
      const client = new CloudWatchClient({ ...clientConfig, maxAttempts: 1, ...(protocol ? { protocol } : {}) });
      await emulator.configure({
        faults: [{ action: 'DescribeAlarms', count: 1, code: 'InvalidParameterValue', message: 'injected' }],
      });
      try {
        // Act
        const err = await describeAlarmStates(client, ['shop-5xx']).then(
          () => undefined,
          (e: unknown) => e,
        );

        // Assess
        expect(err).toBeInstanceOf(InvalidParameterValueException);
        expect(err).toMatchObject({
          name: 'InvalidParameterValueException',
          message: 'injected',
          $fault: 'client',
          $metadata: { httpStatusCode: 400, attempts: 1 },
        });
        expect((await emulator.readConfig()).faults.map((f) => f.count)).toEqual([0]);
      } finally {
        client.destroy();
      }
    });
  });
});
