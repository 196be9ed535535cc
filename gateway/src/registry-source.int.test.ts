// The gateway fed by the schema registry: real registry (PostgreSQL), the gateway's own code, stub subgraphs.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRegistryEnv, registryClient, startRegistry, type RunningRegistry } from '@analytica/schema/registry';
import { dropSchema, eventually, freePort, gql, services, uniqueName } from '@analytica/testing';
import { startRegistryGateway, startStubs, steadyLoad, stubSdl } from './registry-harness.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schema = uniqueName('gw_registry');
const ADMIN = 'gateway-test-admin-token-0123456789';
// Acceptance asks for a 60 s outage; REGISTRY_OUTAGE_SECONDS shortens it on a developer's machine.
const OUTAGE_SECONDS = Number(process.env.REGISTRY_OUTAGE_SECONDS ?? 60);
const registryEnv = (port: number) => ({
  DATABASE_URL: services.databaseUrl,
  DATABASE_SCHEMA: schema,
  REGISTRY_ADMIN_TOKEN: ADMIN,
  REGISTRY_SUBGRAPHS: 'alpha,beta',
  PORT: String(port),
  LOG_LEVEL: 'warn',
});

let registry: RunningRegistry;
let admin: ReturnType<typeof registryClient>;
let stubs: Awaited<ReturnType<typeof startStubs>>;
let readToken: string;
let tmp: string;
const stops: (() => Promise<unknown>)[] = [];

const alphaV1 = stubSdl('hello: String\n  wait(ms: Int!): Int');
const alphaV2 = stubSdl('hello: String\n  world: String\n  wait(ms: Int!): Int');
const betaV1 = stubSdl('count(n: Int): Int');

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'gw-registry-'));
  registry = await startRegistry(parseRegistryEnv(registryEnv(0)));
  admin = registryClient(registry.url, ADMIN);
  stubs = await startStubs();
  await admin.publish([
    { name: 'alpha', sdl: alphaV1, url: stubs.alpha.url },
    { name: 'beta', sdl: betaV1, url: stubs.beta.url },
  ]);
  readToken = (await admin.createToken('gateway', ['read', 'report'])).token;
}, 60_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await registry?.stop();
  await stubs?.close();
  await dropSchema(schema);
});

describe('a gateway fed by the registry', () => {
  it('serves a published composing change within 30 s with no failed request under steady load; in-flight requests finish; a non-composing change is refused and serving goes on', async () => {
    const gateway = await startRegistryGateway(registry.url, readToken);
    stops.push(gateway.stop);
    const url = `${gateway.url}/graphql`;
    expect((await gql(url, '{ hello count(n: 2) }')).data).toEqual({ hello: 'hi', count: 4 });
    expect((await gql(url, '{ world }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const load = steadyLoad(url, '{ hello count(n: 2) }');
    const slow = gql(url, '{ wait(ms: 2500) }');
    const file = path.join(tmp, 'alpha-v2.graphql');
    await writeFile(file, alphaV2);
    const published = Date.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'schema/src/cli.ts'), 'publish', 'alpha', '--sdl', file, '--url', stubs.alpha.url],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', REGISTRY_URL: registry.url, REGISTRY_TOKEN: ADMIN },
      },
    );
    expect(stdout).toContain('Published alpha: version 2.');
    await eventually(async () => ((await gql(url, '{ world }')).data?.world === 'earth' ? true : undefined), 30_000, 200);
    const swappedAfterMs = Date.now() - published;
    // The slow request started on the old schema and still gets its answer.
    expect(await slow).toMatchObject({ status: 200, data: { wait: 2500 } });
    await new Promise((r) => setTimeout(r, 1000));
    const outcomes = await load.stop();
    expect(outcomes.length).toBeGreaterThan(50);
    expect(outcomes.filter((o) => !o.ok).map((o) => o.detail)).toEqual([]);
    expect(swappedAfterMs).toBeLessThan(30_000);

    // beta claims Query.hello as an Int too: composition fails, the registry refuses, nothing changes.
    const refused = await admin.publish([{ name: 'beta', sdl: stubSdl('count(n: Int): Int\n  hello: Int'), url: stubs.beta.url }]).catch((e: { code: string }) => e);
    expect(refused).toMatchObject({ code: 'COMPOSITION_FAILED' });
    expect((await admin.log()).length).toBe(2);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await gql(url, '{ hello world count(n: 1) }')).data).toEqual({ hello: 'hi', world: 'earth', count: 2 });
  }, 90_000);

  it('keeps the last good supergraph when the registry sends garbage or fails, and swaps when it serves a good one again', async () => {
    // A proxy in front of the registry that can be told to misbehave.
    let mode: 'pass' | 'garbage' | 'error' = 'pass';
    const proxy = http.createServer((req, res) => void answer(req, res));
    const answer = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (mode === 'garbage') {
        res.writeHead(200, { etag: `"garbage-${Date.now()}"`, 'content-type': 'text/plain' });
        res.end('schema { query: Nope } this is not a supergraph');
        return;
      }
      if (mode === 'error') {
        res.writeHead(500).end('{"error":{"code":"INTERNAL_SERVER_ERROR"}}');
        return;
      }
      const upstream = await fetch(`${registry.url}${req.url}`, { headers: req.headers as Record<string, string> });
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
      res.end(await upstream.text());
    };
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const gateway = await startRegistryGateway(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, readToken);
    stops.push(gateway.stop);
    const url = `${gateway.url}/graphql`;
    expect((await gql(url, '{ hello world }')).data).toEqual({ hello: 'hi', world: 'earth' });

    const load = steadyLoad(url, '{ hello world }', 2);
    mode = 'garbage';
    await new Promise((r) => setTimeout(r, 3000));
    mode = 'error';
    await new Promise((r) => setTimeout(r, 2000));
    // Meanwhile a new version is published; the gateway sees it once the registry answers properly.
    await admin.publish([{ name: 'beta', sdl: stubSdl('count(n: Int): Int\n  double(n: Int): Int'), url: stubs.beta.url }]);
    expect((await gql(url, '{ double(n: 1) }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    mode = 'pass';
    await eventually(async () => ((await gql(url, '{ double(n: 1) }')).errors?.[0]?.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED' ? true : undefined), 30_000, 200);
    const outcomes = await load.stop();
    expect(outcomes.filter((o) => !o.ok).map((o) => o.detail)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(20);
  }, 60_000);

  it(
    `keeps serving while the registry process is killed for ${OUTAGE_SECONDS} s, and picks up a version published meanwhile once it is back`,
    async () => {
      const port = await freePort();
      const startProcess = () => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'schema/src/registry/main.ts')], {
          env: { PATH: process.env.PATH ?? '', ...registryEnv(port) },
          stdio: 'ignore',
        });
        return child;
      };
      let child: ChildProcess = startProcess();
      stops.push(async () => child.kill('SIGKILL'));
      const processUrl = `http://127.0.0.1:${port}`;
      await eventually(async () => ((await fetch(`${processUrl}/ready`).catch(() => undefined))?.ok ? true : undefined), 60_000, 250);
      const gateway = await startRegistryGateway(processUrl, readToken);
      stops.push(gateway.stop);
      const url = `${gateway.url}/graphql`;
      expect((await gql(url, '{ hello }')).data).toEqual({ hello: 'hi' });

      const load = steadyLoad(url, '{ hello count(n: 3) }', 2);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      // Published through another registry instance on the same database while this one is down.
      const during = await admin.publish([{ name: 'beta', sdl: stubSdl('count(n: Int): Int\n  double(n: Int): Int\n  triple(n: Int): Int'), url: stubs.beta.url }]);
      expect(during.changed).toBe(true);
      await new Promise((r) => setTimeout(r, OUTAGE_SECONDS * 1000));
      expect((await gql(url, '{ triple(n: 1) }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      child = startProcess();
      await eventually(async () => ((await gql(url, '{ triple(n: 1) }')).errors?.[0]?.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED' ? true : undefined), 60_000, 250);
      const outcomes = await load.stop();
      expect(outcomes.filter((o) => !o.ok).map((o) => o.detail)).toEqual([]);
      expect(outcomes.length).toBeGreaterThan(OUTAGE_SECONDS * 5);
    },
    OUTAGE_SECONDS * 1000 + 150_000,
  );
});
