import { defineConfig } from 'vitest/config';

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
    env: {
      // Handlers log JSON on every step (and every injected fault); tests assert on outcomes instead.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
