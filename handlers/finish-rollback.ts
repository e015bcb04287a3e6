import { finishRollback } from '../domain/steps/rollback';
import { lifecycleHandler } from './sqs-handler';

/** DrainElapsed → DeployCancelled / DeployFailed (+ QueuedDeployReady / QueuedUndeployReady for a waiting request). */
export const handler = lifecycleHandler('finish-rollback', ['DrainElapsed'], (_type, detail, ctx) => finishRollback(ctx, detail));
