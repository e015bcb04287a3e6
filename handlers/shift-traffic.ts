import { shiftTraffic } from '../domain/steps/shift-traffic';
import { lifecycleHandler } from './sqs-handler';

/** InstancesHealthy / TrafficShiftDue → TrafficShifted (+ next TrafficShiftDue, or BakeElapsed at 100 %). */
export const handler = lifecycleHandler('shift-traffic', ['InstancesHealthy', 'TrafficShiftDue'], (_type, detail, ctx) =>
  shiftTraffic(ctx, detail, 'Step' in detail ? detail.Step : 1),
);
