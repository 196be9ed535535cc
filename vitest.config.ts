import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
// Apollo loads graphql's CommonJS build; ours must be the same copy, or graphql-js sees two realms.
const resolve = { alias: { graphql: require.resolve('graphql') } };
const ignored = ['**/node_modules/**', '**/.data/**'];
// Every test file of every project: an error answer that carries SQL, a schema or table name or a
// stack trace fails the test that received it (issue 21, acceptance 2).
const setupFiles = [fileURLToPath(new URL('./test/security/no-leaks.setup.ts', import.meta.url))];

export default defineConfig({
  resolve,
  test: {
    projects: [
      {
        resolve,
        test: { name: 'unit', include: ['**/src/**/*.test.ts', 'bench/lib/**/*.test.ts'], exclude: [...ignored, '**/*.int.test.ts'], setupFiles },
      },
      {
        resolve,
        test: {
          name: 'integration',
          setupFiles,
          // test/integration: integration tests that cross contexts (a gateway over subgraphs), kept
          // out of any one workspace's src/ so that no subgraph imports the gateway.
          include: ['**/src/**/*.int.test.ts', 'test/integration/**/*.test.ts'],
          exclude: ignored,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          setupFiles,
          include: ['test/e2e/**/*.test.ts', 'test/security/**/*.test.ts'],
          exclude: ignored,
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // One stack at a time: the machine has two cores.
          fileParallelism: false,
        },
      },
      {
        resolve,
        test: {
          name: 'faults',
          setupFiles,
          // test/faults: dependency outages injected under a running gateway (issue 20).
          include: ['test/faults/**/*.test.ts'],
          exclude: ignored,
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
