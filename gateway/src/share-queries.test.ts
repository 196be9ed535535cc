import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { shareIdenticalQueries, shareIdenticalRequests } from './share-queries.js';

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

describe('identical HTTP requests in flight', () => {
  // The route after the sharing: answers 40 ms later with the number of times it ran and the body it was given.
  let runs = 0;
  let url = '';
  const app = express();
  app.use('/pre-parsed', express.json());
  app.use(shareIdenticalRequests({ bodyLimitBytes: 10_000 }));
  app.post(/.*/, async (req, res) => {
    runs += 1;
    const run = runs;
    await new Promise((resolve) => setTimeout(resolve, 40));
    res.json({ run, body: req.body });
  });
  app.use((error: { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).json({ type: error.type });
  });
  let server: ReturnType<typeof app.listen>;
  beforeAll(async () => {
    server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = async (body: string | Buffer, headers: Record<string, string> = {}, path = '/graphql') => {
    const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: response.status, json: (await response.json()) as { run?: number; body?: unknown; type?: string } };
  };

  it('runs once for a crowd of one caller; another token runs on its own', async () => {
    const body = JSON.stringify({ query: '{ crowd }' });
    const answers = await Promise.all([...Array.from({ length: 6 }, () => post(body, { authorization: 'Bearer a' })), post(body, { authorization: 'Bearer b' })]);
    const crowd = answers.slice(0, 6).map((a) => a.json.run);
    expect(new Set(crowd).size).toBe(1);
    expect(answers[6]!.json.run).not.toBe(crowd[0]);
    expect(answers.every((a) => a.status === 200 && JSON.stringify(a.json.body) === body)).toBe(true);
  });

  it('never shares a mutation, and reads gzip bodies', async () => {
    const body = JSON.stringify({ query: 'mutation { pay }' });
    const answers = await Promise.all([post(body), post(gzipSync(body), { 'content-encoding': 'gzip' })]);
    expect(answers[0]!.json.run).not.toBe(answers[1]!.json.run);
    expect(answers.map((a) => a.json.body)).toEqual([{ query: 'mutation { pay }' }, { query: 'mutation { pay }' }]);
  });

  it("passes body-parser's refusals on (not JSON, too large) and takes an empty body as {}", async () => {
    expect(await post('{ "query": ')).toEqual({ status: 400, json: { type: 'entity.parse.failed' } });
    expect(await post('"just a string"')).toEqual({ status: 400, json: { type: 'entity.parse.failed' } });
    expect(await post('x'.repeat(20_000))).toEqual({ status: 413, json: { type: 'entity.too.large' } });
    expect((await post('')).json.body).toEqual({});
  });

  it('shares requests whose body an earlier route parsed (a partner gate), by their parsed form', async () => {
    const body = JSON.stringify({ query: '{ parsedEarlier }' });
    const answers = await Promise.all(Array.from({ length: 3 }, () => post(body, {}, '/pre-parsed')));
    expect(new Set(answers.map((a) => a.json.run)).size).toBe(1);
    expect(answers[0]!.json.body).toEqual({ query: '{ parsedEarlier }' });
  });
});
