import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Emulator tests start their own moto server and run real deploys: give them time.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      // Handlers log JSON on every step; tests only need errors.
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
