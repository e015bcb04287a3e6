import { watchBake } from '../domain/steps/watch-bake';
import { lifecycleHandler } from './sqs-handler';

/** BakeCheckDue → the next BakeCheckDue, BakeElapsed at the end of the bake, or a rollback on a tripped alarm. */
export const handler = lifecycleHandler('watch-bake', ['BakeCheckDue'], (_type, detail, ctx) => watchBake(ctx, detail));
