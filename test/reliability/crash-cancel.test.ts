import { crashSuite } from './crash-suite';

/**
 * Crash injection, cancel mid-shift (issue #7): v2 is cancelled after its first traffic step, and
 * the rollback's handlers (start-rollback, restore-traffic, finish-rollback) die once right after
 * each of their mutating AWS calls. Every run must end DeployCancelled with production v1 back at
 * 100 %, v2's ASG and target group gone, production's min size restored, and no leftovers.
 *
 * Two runs fail on DOMAIN BUGS (reported, reproduced on their own in crash-bugs.test.ts):
 * - start-rollback PutEvents #1: the redelivered CancelRequested restarts the rollback;
 * - restore-traffic ModifyRule #1: the retried restore-traffic skips the drain (DrainSeconds 0).
 */
crashSuite('cancel', 'c');
