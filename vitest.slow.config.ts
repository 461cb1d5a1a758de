import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/postgres-setup.ts'],
  },
});
