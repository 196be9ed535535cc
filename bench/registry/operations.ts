// Publish, check and fetch latency of the schema registry with the six current subgraphs, against
// real PostgreSQL (the registry in-process, requests over HTTP as the CLI sends them). Each publish
// alternates between two versions of the news SDL so that every one composes and stores a version;
// checks remove a field that recorded usage touches. Figures are printed, not asserted.
//
//   npx tsx bench/registry/operations.ts          BENCH_ROUNDS=30 (default 20)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LATENCY_BOUNDS_MS, parseRegistryEnv, registryClient, startRegistry } from '@analytica/schema/registry';
import { dropSchema, services, uniqueName } from '@analytica/testing';
import { fmt, repoRoot, say } from '../market/lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const names = ['user', 'budget', 'market', 'news', 'payment', 'insight'];
const sdlOf = (name: string) => readFileSync(path.join(repoRoot, `schema/subgraphs/${name}.graphql`), 'utf8');
const schema = uniqueName('bench_registry');
const token = `bench-admin-${uniqueName('t')}`;

const registry = await startRegistry(parseRegistryEnv({ DATABASE_URL: services.databaseUrl, DATABASE_SCHEMA: schema, REGISTRY_ADMIN_TOKEN: token, PORT: '0', LOG_LEVEL: 'warn' }));
const client = registryClient(registry.url, token);
const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `p50 ${fmt(at(0.5), 1)} ms, p95 ${fmt(at(0.95), 1)} ms, max ${fmt(sorted[sorted.length - 1]!, 1)} ms (${ms.length} runs)`;
};
const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
try {
  const seed = await time(() => client.publish(names.map((name, i) => ({ name, sdl: sdlOf(name), url: `http://127.0.0.1:${4001 + i}/graphql` }))));
  say(`registry with the six subgraphs (${names.map((n) => `${n} ${fmt(sdlOf(n).length / 1024, 1)} KiB`).join(', ')})`);
  say(`  first publish of all six at once: ${fmt(seed, 1)} ms`);
  // Usage for the check to weigh: 200 operations over an hour, one touching Article.body.
  const usage = { latencyBoundsMs: LATENCY_BOUNDS_MS, operations: [] as unknown[], usage: [] as unknown[] };
  for (let i = 0; i < 200; i++) {
    const hash = i.toString(16).padStart(32, '0');
    usage.operations.push({
      hash,
      name: `Op${i}`,
      signature: `query Op${i}{...}`,
      coordinates: ['Query.articles', 'ArticleConnection.nodes', i === 7 ? 'Article.body' : 'Article.title'],
    });
    for (let m = 0; m < 60; m++)
      usage.usage.push({
        minute: Date.now() - m * 60_000,
        hash,
        clientName: `client${i % 5}`,
        clientVersion: '1.0',
        count: 10,
        errors: 0,
        latencySumMs: 50,
        buckets: LATENCY_BOUNDS_MS.map(() => 0)
          .concat([0])
          .map((_, k) => (k === 5 ? 10 : 0)),
      });
  }
  const ingest = await time(() => client.reportUsage(usage));
  say(`  usage batch of 200 operations x 60 minutes (12,000 rows): ${fmt(ingest, 1)} ms`);

  const news = sdlOf('news');
  const variant = news.replace('  title: String!\n', '  title: String!\n  subtitle: String\n');
  const publish: number[] = [];
  const check: number[] = [];
  const fetchMs: number[] = [];
  const fetch304: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    publish.push(await time(() => client.publish([{ name: 'news', sdl: i % 2 === 0 ? variant : news, url: 'http://127.0.0.1:4004/graphql' }])));
    check.push(
      await time(async () => {
        const result = await client.check({ subgraph: 'news', sdl: news.replace('  body: String!\n', '') });
        if (result.ok) throw new Error('the check should fail: Article.body is used');
      }),
    );
    let etag = '';
    fetchMs.push(await time(async () => (etag = (await client.supergraph()).etag)));
    fetch304.push(
      await time(async () => {
        const response = await fetch(`${registry.url}/api/supergraph`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } });
        if (response.status !== 304) throw new Error(`expected 304, got ${response.status}`);
      }),
    );
  }
  say(`  RESULT publish (compose six subgraphs, store a version): ${stats(publish)}`);
  say(`  RESULT check (compose, classify, weigh usage): ${stats(check)}`);
  say(`  RESULT fetch supergraph (${fmt((await client.supergraph()).text.length / 1024, 0)} KiB): ${stats(fetchMs)}`);
  say(`  RESULT poll unchanged (If-None-Match, 304): ${stats(fetch304)}`);
} finally {
  await registry.stop();
  await dropSchema(schema);
}
