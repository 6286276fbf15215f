import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['functions/**/*.test.ts', 'shared/**/*.test.ts', 'simulator/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules', 'dist'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      WEBSITE_SITE_NAME: 'gateway-test',
      FUNCTIONS_EXTENSION_VERSION: '~4',
    },
  },
});
