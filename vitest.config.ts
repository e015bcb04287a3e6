import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The longest files first, so the last ones to finish are short. Without a results cache (a clean
 * checkout, i.e. CI) vitest orders files by size, which puts small files that run long (the
 * crash-injection wrappers, failures.test.ts) at the very end, running alone. The files named in
 * LONGEST (the longest, longest first, as measured on two cores) go first, then the other
 * reliability files, then the other emulator files, then the rest, each group in vitest's own order.
 */
const LONGEST = [
  '/test/emulator/failures.test.ts',
  '/test/reliability/crash.test.ts',
  '/test/reliability/storm.test.ts',
  '/test/emulator/flooding.test.ts',
  '/test/emulator/eventual-consistency.test.ts',
  '/test/reliability/crash-non-web.test.ts',
  '/test/reliability/crash-lag.test.ts',
  '/test/reliability/crash-regressions.test.ts',
  '/test/reliability/crash-cancel.test.ts',
  '/test/emulator/rollout-control.test.ts',
  '/test/notify/slack.emulator.test.ts',
  '/test/reliability/delivery.test.ts',
  '/test/emulator/shipped-bundles.test.ts',
  '/test/reliability/throttling.test.ts',
];
const FIRST = ['/test/reliability/', '/test/emulator/', '/test/notify/', '/test/cli/'];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const named = LONGEST.findIndex((file) => f.moduleId.endsWith(file));
      if (named !== -1) return named;
      const i = FIRST.findIndex((dir) => f.moduleId.includes(dir));
      return LONGEST.length + (i === -1 ? FIRST.length : i);
    };
    const ordered = await super.sort(files);
    return ordered.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Emulator tests start their own moto server and run real deploys: give them time.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Emulator files spend most of their time waiting on timers (each has its own moto server):
    // three at a time keep two cores busy without starving any of them.
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    sequence: { sequencer: LongestFirst },
    env: {
      // Handlers log JSON on every step (and every injected fault); tests assert on outcomes instead.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
