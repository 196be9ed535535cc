// Usage reporting end to end: clients -> gateway (its own code) -> registry (PostgreSQL) -> usage queries.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRegistryEnv, registryClient, startRegistry, type RunningRegistry } from '@analytica/schema/registry';
import { dropSchema, eventually, gql, services, uniqueName } from '@analytica/testing';
import { startRegistryGateway, startStubs, stubSdl } from './registry-harness.js';

const schema = uniqueName('gw_usage');
const ADMIN = 'usage-test-admin-token-0123456789abc';
let registry: RunningRegistry;
let admin: ReturnType<typeof registryClient>;
let stubs: Awaited<ReturnType<typeof startStubs>>;
let token: string;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  registry = await startRegistry(
    parseRegistryEnv({ DATABASE_URL: services.databaseUrl, DATABASE_SCHEMA: schema, REGISTRY_ADMIN_TOKEN: ADMIN, REGISTRY_SUBGRAPHS: 'alpha,beta', PORT: '0', LOG_LEVEL: 'warn' }),
  );
  admin = registryClient(registry.url, ADMIN);
  stubs = await startStubs();
  await admin.publish([
    { name: 'alpha', sdl: stubSdl('hello: String\n  world: String\n  wait(ms: Int!): Int'), url: stubs.alpha.url },
    { name: 'beta', sdl: stubSdl('count(n: Int): Int'), url: stubs.beta.url },
  ]);
  token = (await admin.createToken('gateway', ['read', 'report'])).token;
}, 60_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await registry?.stop();
  await stubs?.close();
  await dropSchema(schema);
});

const as = (name: string, version: string) => ({ headers: { 'apollographql-client-name': name, 'apollographql-client-version': version } });

describe('usage reporting', () => {
  it('three clients send different operations; the usage query answers each with its count and p95, and field usage by client', async () => {
    const gateway = await startRegistryGateway(registry.url, token, { USAGE_REPORT_URL: `${registry.url}/api/usage`, USAGE_FLUSH_SECONDS: '1' });
    stops.push(gateway.stop);
    const url = `${gateway.url}/graphql`;
    // Each client sends its requests one after another (the three at once), so that latency is the operation's own.
    const sequence = async (count: number, send: (i: number) => Promise<{ status: number }>) => {
      const statuses: number[] = [];
      for (let i = 0; i < count; i++) statuses.push((await send(i)).status);
      return statuses;
    };
    const statuses = await Promise.all([
      sequence(30, () => gql(url, 'query Greeting { hello }', as('web', '1.4'))),
      sequence(20, (i) => gql(url, `query Slow { wait(ms: ${i < 18 ? 20 : 120}) }`, as('ios', '2.0'))),
      sequence(10, (i) => gql(url, 'query Count($n: Int) { count(n: $n) world }', { ...as('android', '3.1'), variables: { n: i } })),
    ]);
    expect(statuses.flat().every((s) => s === 200)).toBe(true);
    // A request that fails validation is counted, as an error, under its own operation.
    expect((await gql(url, 'query Broken { hello nope }', as('web', '1.4'))).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const usage = await eventually(
      async () => {
        const answer = await admin.usageOperations({});
        return answer.operations.reduce((n: number, o: { count: number }) => n + o.count, 0) === 61 ? answer : undefined;
      },
      15_000,
      250,
    );
    const byName = Object.fromEntries(usage.operations.map((o: { name: string }) => [o.name, o]));
    expect(byName.Greeting).toMatchObject({ client: { name: 'web', version: '1.4' }, count: 30, errors: 0, signature: 'query Greeting{hello}' });
    expect(byName.Broken).toMatchObject({ client: { name: 'web', version: '1.4' }, count: 1, errors: 1 });
    expect(byName.Count).toMatchObject({ client: { name: 'android', version: '3.1' }, count: 10 });
    expect(byName.Slow).toMatchObject({ client: { name: 'ios', version: '2.0' }, count: 20 });
    // 18 of 20 took ~20 ms and 2 took ~120 ms: p95 lies in the slow ones' bucket; literals did not split the operation.
    expect(byName.Slow.p95Ms).toBeGreaterThan(80);
    expect(byName.Slow.p95Ms).toBeLessThanOrEqual(150);
    expect(byName.Slow.p50Ms).toBeLessThan(60);
    expect(byName.Greeting.p95Ms).toBeLessThan(byName.Slow.p95Ms);
    const fields = await admin.usageFields({ client: 'android' });
    expect(fields.fields).toEqual(
      expect.arrayContaining([
        { coordinate: 'Query.count', client: 'android', count: 10, operations: 1 },
        { coordinate: 'Query.count.n', client: 'android', count: 10, operations: 1 },
        { coordinate: 'Query.world', client: 'android', count: 10, operations: 1 },
      ]),
    );
    expect(fields.fields.every((f: { client: string }) => f.client === 'android')).toBe(true);

    // And the check sees it: removing Query.world breaks android 3.1's Count.
    const check = await admin.check({ subgraph: 'alpha', sdl: stubSdl('hello: String\n  wait(ms: Int!): Int') });
    expect(check.ok).toBe(false);
    expect(check.changes[0]).toMatchObject({ path: 'Query.world', verdict: 'FAILS', usage: [{ name: 'Count', clients: [{ name: 'android', version: '3.1', count: 10 }] }] });
  }, 60_000);

  it('counts every request for its own client when identical requests in flight share one answer', async () => {
    const gateway = await startRegistryGateway(registry.url, token, { USAGE_REPORT_URL: `${registry.url}/api/usage`, USAGE_FLUSH_SECONDS: '1' });
    stops.push(gateway.stop);
    const url = `${gateway.url}/graphql`;
    // 12 requests at once with one body (the subgraph takes 300 ms): the gateway executes one.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => gql(url, 'query Shared { wait(ms: 300) }', i % 3 ? as('web', '1.4') : as('ios', '2.0'))));
    expect(answers.map((a) => a.data?.wait)).toEqual(Array(12).fill(300));
    const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
    expect(Number(/^gateway_requests_shared_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    const shared = await eventually(
      async () => {
        const answer = await admin.usageOperations({});
        const rows = answer.operations.filter((o: { name: string }) => o.name === 'Shared');
        return rows.reduce((n: number, o: { count: number }) => n + o.count, 0) === 12 ? rows : undefined;
      },
      15_000,
      250,
    );
    expect(Object.fromEntries(shared.map((o: { client: { name: string }; count: number }) => [o.client.name, o.count]))).toEqual({ web: 8, ios: 4 });
  });

  it('a registry that never answers costs requests neither errors nor latency', async () => {
    // Accepts connections and never answers: the worst a registry can do to a reporter.
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          blackHole.close(() => resolve());
        }),
    );
    const gateway = await startRegistryGateway(registry.url, token, {
      USAGE_REPORT_URL: `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}/api/usage`,
      USAGE_FLUSH_SECONDS: '1',
    });
    stops.push(gateway.stop);
    const url = `${gateway.url}/graphql`;
    const started = Date.now();
    let slowest = 0;
    while (Date.now() - started < 4000) {
      const t = Date.now();
      const result = await gql(url, '{ hello }', as('web', '1.4'));
      slowest = Math.max(slowest, Date.now() - t);
      expect(result.data).toEqual({ hello: 'hi' });
    }
    expect(sockets.length).toBeGreaterThan(0); // batches were attempted
    expect(slowest).toBeLessThan(500);
  }, 30_000);
});
