import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each start real servers; running files in parallel on a
    // 2-core machine only adds noise, so files run one after another.
    fileParallelism: false,
  },
});
