// What the admin console reads from the registry (issue 16), against real PostgreSQL through the HTTP
// API: usage over time in buckets (GET /api/usage/series) and the gateways that poll the supergraph
// with the version each serves (GET /api/gateways).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, services, uniqueName } from '@analytica/testing';
import { repoRoot } from '../composition.js';
import { RegistryClientError, registryClient } from './client.js';
import { parseRegistryEnv } from './environment.js';
import { startRegistry, type RunningRegistry } from './index.js';
import { LATENCY_BOUNDS_MS } from './usage.js';

const schema = uniqueName('registry_ops_test');
const ADMIN = 'test-admin-token-0123456789abcdefghij';
const names = ['user', 'budget', 'market', 'news', 'payment', 'insight'];
let registry: RunningRegistry;
let admin: ReturnType<typeof registryClient>;

/** One usage row as the gateway sends it: `n` requests at `latencyMs`, `errors` of them failed. */
function batch(op: { hash: string; name: string | null }, clientName: string, minute: number, n: number, latencyMs: number, errors = 0) {
  const buckets = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  buckets[LATENCY_BOUNDS_MS.findIndex((b) => latencyMs <= b)] = n;
  return {
    latencyBoundsMs: LATENCY_BOUNDS_MS,
    operations: [{ ...op, signature: `query ${op.name ?? ''}{...}`, coordinates: ['Query.me'] }],
    usage: [{ minute, hash: op.hash, clientName, clientVersion: '1.0', count: n, errors, latencySumMs: n * latencyMs, buckets }],
  };
}

beforeAll(async () => {
  registry = await startRegistry(parseRegistryEnv({ DATABASE_URL: services.databaseUrl, DATABASE_SCHEMA: schema, REGISTRY_ADMIN_TOKEN: ADMIN, PORT: '0', LOG_LEVEL: 'warn' }));
  admin = registryClient(registry.url, ADMIN);
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await dropSchema(schema);
});

describe('usage series', () => {
  // Whole ten minutes, so that the 5-minute buckets below are known.
  const base = Math.floor((Date.now() - 60 * 60_000) / 600_000) * 600_000;
  const probe = { hash: 'ab'.repeat(16), name: 'Probe' };
  const anonymous = { hash: 'cd'.repeat(16), name: null };

  it('sums requests and errors per bucket, operation and client, with the p95 of the merged histograms', async () => {
    await admin.reportUsage(batch(probe, 'web', base, 10, 12, 1));
    await admin.reportUsage(batch(probe, 'web', base + 60_000, 10, 120));
    await admin.reportUsage(batch(probe, 'ios', base + 60_000, 4, 3));
    await admin.reportUsage(batch(anonymous, 'web', base + 6 * 60_000, 2, 5));
    const series = await admin.usageSeries({ from: new Date(base).toISOString(), to: new Date(base + 10 * 60_000).toISOString(), bucketMinutes: 5 });
    expect(series.bucketMinutes).toBe(5);
    expect(series.points).toEqual([
      { bucketStart: new Date(base).toISOString(), operationName: 'Probe', clientName: 'web', requests: 20, errors: 1, p95Ms: expect.any(Number) },
      { bucketStart: new Date(base).toISOString(), operationName: 'Probe', clientName: 'ios', requests: 4, errors: 0, p95Ms: expect.any(Number) },
      { bucketStart: new Date(base + 5 * 60_000).toISOString(), operationName: null, clientName: 'web', requests: 2, errors: 0, p95Ms: expect.any(Number) },
    ]);
    // Half of web's requests took 120 ms: its p95 lies in that bucket, not in the 12 ms one.
    expect(series.points[0].p95Ms).toBeGreaterThan(100);
    expect(series.points[0].p95Ms).toBeLessThanOrEqual(125);

    const minutes = await admin.usageSeries({ from: new Date(base).toISOString(), to: new Date(base + 10 * 60_000).toISOString(), bucketMinutes: 1, client: 'web' });
    expect(minutes.points.map((p: { bucketStart: string; requests: number }) => [p.bucketStart, p.requests])).toEqual([
      [new Date(base).toISOString(), 10],
      [new Date(base + 60_000).toISOString(), 10],
      [new Date(base + 6 * 60_000).toISOString(), 2],
    ]);
  });

  it('refuses a bucket that is not 1 to 1440 minutes, a range backwards, and more than 2,000 buckets', async () => {
    for (const [query, field] of [
      [{ bucketMinutes: 0 }, 'bucketMinutes'],
      [{ bucketMinutes: 1.5 }, 'bucketMinutes'],
      [{ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
      [{ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', bucketMinutes: 1 }, 'bucketMinutes'],
    ] as const) {
      const error = await admin.usageSeries(query).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(query)).toBeInstanceOf(RegistryClientError);
      expect(error).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', body: { field } });
    }
  });
});

describe('gateway instances', () => {
  it('records each gateway that polls the supergraph with its instance id and served version, 304s included, and lists them', async () => {
    const published = await admin.publish(
      names.map((name) => ({ name, sdl: readFileSync(path.join(repoRoot, `schema/subgraphs/${name}.graphql`), 'utf8'), url: `http://127.0.0.1:4001/graphql` })),
      { author: 'test' },
    );
    const reader = (await admin.createToken('ops-reader', ['read'])).token as string;
    const poll = (headers: Record<string, string>) => fetch(`${registry.url}/api/supergraph`, { headers: { authorization: `Bearer ${reader}`, ...headers } });

    // A gateway's first poll: it serves its fallback file, no version yet.
    const first = await poll({ 'x-gateway-instance': 'gw-a:4000', 'x-gateway-schema-version': '' });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect((await admin.gateways()).gateways).toEqual([{ instanceId: 'gw-a:4000', schemaVersion: null, lastSeenAt: expect.any(String) }]);

    // Its next poll after the swap is a 304, and carries the version it serves now.
    const again = await poll({ 'if-none-match': etag, 'x-gateway-instance': 'gw-a:4000', 'x-gateway-schema-version': String(published.version) });
    expect(again.status).toBe(304);
    await poll({ 'x-gateway-instance': 'gw-b:4040', 'x-gateway-schema-version': String(published.version) });
    // A name that is no instance id is not recorded, and the poll is still answered.
    expect((await poll({ 'x-gateway-instance': 'not an id; drop table', 'x-gateway-schema-version': '1' })).status).toBe(200);
    // A poll without the header (an older gateway, a person with curl) records nothing.
    await poll({});

    const { gateways } = await admin.gateways();
    expect(gateways.map((g) => [g.instanceId, g.schemaVersion])).toEqual([
      ['gw-b:4040', published.version],
      ['gw-a:4000', published.version],
    ]);
    expect(Date.now() - new Date(gateways[0]!.lastSeenAt).getTime()).toBeLessThan(60_000);
  });

  it('needs a token with the read scope', async () => {
    const reporter = (await admin.createToken('ops-reporter', ['report'])).token as string;
    const response = await fetch(`${registry.url}/api/gateways`, { headers: { authorization: `Bearer ${reporter}` } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
  });
});
