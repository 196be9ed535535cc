import { describe, expect, it } from 'vitest';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { shareIdenticalQueries } from './share-queries.js';

/** A gateway whose executor answers after 50 ms and counts its executions. */
async function sharedExecutor() {
  let executions = 0;
  const executor: GatewayExecutor = async () => {
    executions += 1;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { data: { execution: executions } };
  };
  const gateway = { onSchemaLoadOrUpdate: () => () => {}, stop: async () => {}, load: async () => ({ executor }) } as GatewayInterface;
  const shared: number[] = [];
  const loaded = await shareIdenticalQueries(gateway, { onShared: () => shared.push(1) }).load({ apollo: {} });
  const run = (operation: 'query' | 'mutation', authorization: string | undefined, variables?: Record<string, unknown>) =>
    loaded.executor!({ operation: { operation }, queryHash: 'h1', request: { variables }, context: { authorization } } as never);
  return { run, executions: () => executions, shared };
}

describe('identical queries in flight', () => {
  it('run once for one caller, and every request gets the result', async () => {
    const { run, executions, shared } = await sharedExecutor();
    const results = await Promise.all([run('query', 'Bearer a'), run('query', 'Bearer a'), run('query', 'Bearer a')]);
    expect(executions()).toBe(1);
    expect(shared).toHaveLength(2);
    expect(results.map((r) => r.data)).toEqual([{ execution: 1 }, { execution: 1 }, { execution: 1 }]);
  });

  it('run separately for two tokens, for different variables, and once the first has answered', async () => {
    const { run, executions } = await sharedExecutor();
    await Promise.all([run('query', 'Bearer a'), run('query', 'Bearer b'), run('query', 'Bearer a', { n: 1 })]);
    expect(executions()).toBe(3);
    await run('query', 'Bearer a');
    expect(executions()).toBe(4);
  });

  it('never share a mutation', async () => {
    const { run, executions } = await sharedExecutor();
    await Promise.all([run('mutation', 'Bearer a'), run('mutation', 'Bearer a')]);
    expect(executions()).toBe(2);
  });
});
