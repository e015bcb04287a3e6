import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Emulator tests start their own moto server and run real deploys: give them time.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      // Handlers log JSON on every step (and every injected fault); tests assert on outcomes instead.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
