import { defineConfig } from 'vitest/config';

// The console in a real Chromium (npm run test:console); not part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/console/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
