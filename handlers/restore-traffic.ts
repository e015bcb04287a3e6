import { restoreTraffic } from '../domain/steps/rollback';
import { lifecycleHandler } from './sqs-handler';

/** RollbackStarted → TrafficRestored (+ DrainElapsed after the drain period). */
export const handler = lifecycleHandler('restore-traffic', ['RollbackStarted'], (_type, detail, ctx) => restoreTraffic(ctx, detail));
