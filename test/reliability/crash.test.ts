import { crashSuite } from './crash-suite';

/**
 * Crash injection, web blue/green deploy (issue #7): production v1 in place, a deploy of v2 whose
 * handlers die once right after each mutating AWS call of the recording run — every handler's,
 * in the workload account (EC2, Auto Scaling, ELBv2) and the control plane (DynamoDB, EventBridge,
 * SQS, Scheduler). Each run must complete the deploy (DeployCompleted) with one ASG, one target
 * group and the live rule at 100 % on it, one new launch template version, and no leftovers.
 * See crash-suite.ts for the checks and the summary written to .results/crash-web.json.
 */
crashSuite('web', 'w');
