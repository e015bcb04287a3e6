import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The longest files first. Without a results cache (a clean checkout, i.e. CI) vitest orders files
 * by size, which puts the small crash-injection wrappers — the longest files — at the very end,
 * running alone. Reliability files (the longest) go first, then the other emulator files, then the
 * rest, each group in vitest's own order.
 */
const FIRST = ['/test/reliability/', '/test/emulator/', '/test/notify/', '/test/cli/'];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const group = (f: TestSpecification) => {
      const i = FIRST.findIndex((dir) => f.moduleId.includes(dir));
      return i === -1 ? FIRST.length : i;
    };
    const ordered = await super.sort(files);
    return ordered.map((f, i) => ({ f, i })).sort((a, b) => group(a.f) - group(b.f) || a.i - b.i).map(({ f }) => f);
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
