import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file in its own process: the leak check then sees only that file's handles and children.
    pool: 'forks',
    isolate: true,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    globalSetup: ['test/support/build.ts'],
    setupFiles: ['test/support/leak-check.ts'],
  },
});
