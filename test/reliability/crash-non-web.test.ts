import { crashSuite } from './crash-suite';

/**
 * Crash injection, non-web deploy (issue #7): as crash.test.ts for a service without listeners
 * (no target group, no rule): every run must complete with one ASG and no leftovers.
 */
crashSuite('nonWeb', 'n');
