import { finishDeploy } from '../domain/steps/finish-deploy';
import { lifecycleHandler } from './sqs-handler';

/** BakeElapsed → DeployCompleted. */
export const handler = lifecycleHandler('finish-deploy', ['BakeElapsed'], (_type, detail, ctx) => finishDeploy(ctx, detail));
