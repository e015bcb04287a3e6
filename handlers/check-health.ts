import { checkHealth } from '../domain/steps/check-health';
import { lifecycleHandler } from './sqs-handler';

/** AsgCloned / HealthCheckDue → InstancesHealthy (or another HealthCheckDue, or DeployFailed). */
export const handler = lifecycleHandler('check-health', ['AsgCloned', 'HealthCheckDue'], (_type, detail, ctx) =>
  checkHealth(ctx, detail, 'Attempt' in detail ? detail.Attempt : 1),
);
