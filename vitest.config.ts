import { defineConfig } from 'vitest/config';

// Tests run server and shared modules directly (relative imports), so they need neither the
// SvelteKit nor the Paraglide plugin, whose watchers would keep the run from exiting.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30000,
    hookTimeout: 30000,
    pool: 'forks'
  }
});
