// The registry against real PostgreSQL, through its HTTP API and (for publish, check, fetch) its CLI.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, services, uniqueName } from '@analytica/testing';
import { repoRoot } from '../composition.js';
import { RegistryClientError, registryClient } from './client.js';
import { USER_ID, withoutField } from '../sdl-edits.js';
import { parseRegistryEnv } from './environment.js';
import { startRegistry, type RunningRegistry } from './index.js';
import { LATENCY_BOUNDS_MS } from './usage.js';

const run = promisify(execFile);
const schema = uniqueName('registry_test');
const ADMIN = 'test-admin-token-0123456789abcdefghij';
const names = ['user', 'budget', 'market', 'news', 'payment', 'insight'];
const sdlOf = (name: string) => readFileSync(path.join(repoRoot, `schema/subgraphs/${name}.graphql`), 'utf8');
const urlOf = (name: string) => `http://127.0.0.1:${4001 + names.indexOf(name)}/graphql`;
const news = sdlOf('news');

let registry: RunningRegistry;
let admin: ReturnType<typeof registryClient>;
let tmp: string;
let db: pg.Client;

async function cli(args: string[], token = ADMIN) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'schema/src/cli.ts'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', REGISTRY_URL: registry.url, REGISTRY_TOKEN: token },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
async function fileWith(name: string, text: string) {
  const file = path.join(tmp, name);
  await writeFile(file, text);
  return file;
}
async function refusal(promise: Promise<unknown>): Promise<RegistryClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryClientError);
  return error as RegistryClientError;
}
const count = async (table: string) => Number((await db.query(`select count(*) from "${schema}".${table}`)).rows[0].count);

/** A usage batch as the gateway sends it: one operation, `n` requests of one client at `latencyMs`. */
function usageBatch(op: { hash: string; name: string; coordinates: string[] }, client: [string, string], n: number, latencyMs: number, minute = Date.now()) {
  const buckets = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  buckets[LATENCY_BOUNDS_MS.findIndex((b) => latencyMs <= b)] = n;
  return {
    latencyBoundsMs: LATENCY_BOUNDS_MS,
    operations: [{ ...op, signature: `query ${op.name}{...}` }],
    usage: [{ minute, hash: op.hash, clientName: client[0], clientVersion: client[1], count: n, errors: 0, latencySumMs: n * latencyMs, buckets }],
  };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'registry-test-'));
  registry = await startRegistry(parseRegistryEnv({ DATABASE_URL: services.databaseUrl, DATABASE_SCHEMA: schema, REGISTRY_ADMIN_TOKEN: ADMIN, PORT: '0', LOG_LEVEL: 'warn' }));
  admin = registryClient(registry.url, ADMIN);
  db = new pg.Client({ connectionString: services.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await db?.end();
  await dropSchema(schema);
});

describe('publish', () => {
  it('through the CLI: each of the six subgraphs composes with the latest of the others; the same SDL again changes nothing', async () => {
    // The first alone composes (user owns User); the others join one at a time, as separate publishes would.
    const first = await cli(['publish', 'user', '--sdl', path.join(repoRoot, 'schema/subgraphs/user.graphql'), '--url', urlOf('user'), '--commit', 'c0ffee', '--author', 'ci']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Published user: version 1.');
    const rest = await admin.publish(
      names.filter((n) => n !== 'user').map((name) => ({ name, sdl: sdlOf(name), url: urlOf(name) })),
      { author: 'test' },
    );
    expect(rest).toMatchObject({ changed: true, version: 2 });

    const again = await cli(['publish', 'news', '--sdl', path.join(repoRoot, 'schema/subgraphs/news.graphql'), '--url', urlOf('news')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Nothing changed: news's SDL and URL are those of version 2.");
    expect(await count('schema_versions')).toBe(2);
    expect(await count('subgraph_versions')).toBe(6);

    const log = await admin.log();
    expect(log.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(log[1]).toMatchObject({ changedSubgraphs: ['user'], commit: 'c0ffee', author: 'ci' });
    // The stored version is the composition of the committed SDL: the supergraph the repository has.
    const served = await admin.supergraph();
    expect(served.text).toBe(readFileSync(path.join(repoRoot, 'schema/supergraph.graphql'), 'utf8'));
  }, 90_000);

  it('serves the supergraph with an ETag (304 when unchanged) and a client-facing API schema without federation internals', async () => {
    const first = await fetch(`${registry.url}/api/supergraph`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(await first.text()).toContain('join__Graph');
    const again = await fetch(`${registry.url}/api/supergraph`, { headers: { authorization: `Bearer ${ADMIN}`, 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const api = await admin.apiSchema();
    expect(api.text).toContain('type Article');
    expect(api.text).not.toMatch(/join__|link__|@link|_entities|_service/);
    const fetched = await cli(['fetch', '--api', '--version', '2']);
    expect(fetched.stdout).toBe(api.text);
  }, 60_000);

  it('refuses a change that does not compose, with the composition errors, and stores nothing', async () => {
    // Article's key becomes an Int in news, while the market subgraph still has Quote.latestHeadline: Article... and others extend by ID.
    const broken = news
      .replace('type Article\n  @key(fields: "id")', 'type Article\n  @key(fields: "id")')
      .replace(/(type Article[\s\S]*?)id: ID!/, '$1id: Int!')
      .replace(USER_ID, '$1id: Int!');
    const before = [await count('schema_versions'), await count('subgraph_versions')];
    const error = await refusal(admin.publish([{ name: 'news', sdl: broken, url: urlOf('news') }]));
    expect(error.code).toBe('COMPOSITION_FAILED');
    expect(error.status).toBe(422);
    expect(error.body.details?.join('\n')).toMatch(/User\.id/);
    const viaCli = await cli(['publish', 'news', '--sdl', await fileWith('broken.graphql', broken), '--url', urlOf('news')]);
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toContain('error COMPOSITION_FAILED');
    expect([await count('schema_versions'), await count('subgraph_versions')]).toEqual(before);
  }, 60_000);

  it('refuses bad input with a code naming it, and stores nothing', async () => {
    const before = [await count('schema_versions'), await count('subgraph_versions')];
    const unparsable = await refusal(admin.publish([{ name: 'news', sdl: 'type Query {', url: urlOf('news') }]));
    expect(unparsable).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', body: { field: 'sdl' } });
    expect(unparsable.message).toMatch(/news.*does not parse at line 1/);
    const unknown = await refusal(admin.publish([{ name: 'crypto', sdl: news, url: urlOf('news') }]));
    expect(unknown).toMatchObject({ status: 404, code: 'NOT_FOUND', body: { field: 'subgraph' } });
    expect(unknown.message).toContain('"crypto"');
    const notHttp = await refusal(admin.publish([{ name: 'news', sdl: news, url: 'ftp://news.local/graphql' }]));
    expect(notHttp).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', body: { field: 'url' } });
    expect(notHttp.message).toContain('ftp://news.local/graphql');
    for (const request of [() => admin.supergraph(999), () => admin.apiSchema(999), () => admin.diff(1, 999), () => admin.version(999), () => admin.rollback(999)]) {
      const error = await refusal(request());
      expect(error).toMatchObject({ status: 404, code: 'NOT_FOUND', body: { field: 'version' } });
      expect(error.message).toContain('999');
    }
    expect(await refusal(admin.version('abc'))).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', body: { field: 'version' } });
    expect([await count('schema_versions'), await count('subgraph_versions')]).toEqual(before);
  });

  it('keeps versions immutable, even to SQL', async () => {
    await expect(db.query(`update "${schema}".subgraph_versions set sdl = 'x'`)).rejects.toThrow(/immutable/);
    await expect(db.query(`delete from "${schema}".schema_versions`)).rejects.toThrow(/immutable/);
  });
});

describe('tokens', () => {
  it('stores only hashes; each scope allows its routes; no token or a revoked one is UNAUTHENTICATED', async () => {
    const made = await admin.createToken('ci-checker', ['check', 'read']);
    const stored = await db.query(`select token_hash from "${schema}".service_tokens where name = 'ci-checker'`);
    // The SHA-256 of the secret, never the secret.
    expect(stored.rows).toEqual([{ token_hash: createHash('sha256').update(made.token).digest('hex') }]);
    const checker = registryClient(registry.url, made.token);
    await expect(checker.check({ subgraph: 'news', sdl: news })).resolves.toMatchObject({ ok: true });
    expect(await refusal(checker.publish([{ name: 'news', sdl: news, url: urlOf('news') }]))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await refusal(checker.createToken('x', ['read']))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await refusal(registryClient(registry.url, 'nope').log())).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await refusal(admin.createToken('bad', ['root']))).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: 'scopes' } });
    expect(await refusal(admin.createToken('ci-checker', ['read']))).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: 'name' } });
    await admin.revokeToken('ci-checker');
    expect(await refusal(checker.log())).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    // Once revoked, the name can be given to a new token; the old secret stays refused.
    const renewed = registryClient(registry.url, (await admin.createToken('ci-checker', ['read'])).token);
    await expect(renewed.log()).resolves.toBeDefined();
    expect(await refusal(checker.log())).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });
});

describe('check', () => {
  const articlePage = {
    hash: 'a1'.repeat(16),
    name: 'ArticlePage',
    coordinates: ['Query.articles', 'Query.articles.first', 'ArticleConnection.nodes', 'Article.id', 'Article.body'],
  };
  const headlines = { hash: 'b2'.repeat(16), name: 'Headlines', coordinates: ['Query.articles', 'ArticleConnection.nodes', 'Article.title'] };

  beforeAll(async () => {
    const reporter = registryClient(registry.url, (await admin.createToken('gateway', ['report'])).token);
    await reporter.reportUsage(usageBatch(articlePage, ['web', '1.4'], 40, 12));
    await reporter.reportUsage(usageBatch(headlines, ['ios', '2.0'], 10, 3));
    // Usage older than the window does not count.
    await reporter.reportUsage(
      usageBatch({ ...headlines, hash: 'c3'.repeat(16), name: 'OldSource', coordinates: ['Article.source'] }, ['web', '1.0'], 5, 3, Date.now() - 40 * 86_400_000),
    );
  });

  it('removing a field that client web 1.4 used in the window fails, naming the client and the operation', async () => {
    const result = await admin.check({ subgraph: 'news', sdl: withoutField(news, 'body: String!') });
    expect(result.ok).toBe(false);
    const change = result.changes.find((c: { path: string }) => c.path === 'Article.body');
    expect(change).toMatchObject({ level: 'BREAKING', verdict: 'FAILS' });
    expect(change.usage).toEqual([{ operation: articlePage.hash, name: 'ArticlePage', count: 40, clients: [{ name: 'web', version: '1.4', count: 40 }] }]);
    const viaCli = await cli(['check', 'news', '--sdl', await fileWith('no-body.graphql', withoutField(news, 'body: String!'))]);
    expect(viaCli.code).toBe(1);
    expect(viaCli.stdout).toContain('FAILED');
    expect(viaCli.stdout).toMatch(/used by operation ArticlePage .*web 1\.4 \(40\)/);
  }, 60_000);

  it('an approved breaking change passes', async () => {
    const result = await admin.check({ subgraph: 'news', sdl: withoutField(news, 'body: String!'), approved: ['Article.body'] });
    expect(result.ok).toBe(true);
    expect(result.changes.find((c: { path: string }) => c.path === 'Article.body')).toMatchObject({ verdict: 'APPROVED' });
  });

  it('removing a field no operation used in the window passes as breaking-but-unused, with a note', async () => {
    const result = await admin.check({ subgraph: 'news', sdl: withoutField(news, 'source: String!') });
    expect(result.ok).toBe(true);
    expect(result.changes).toEqual([expect.objectContaining({ level: 'BREAKING', path: 'Article.source', verdict: 'UNUSED', usage: [] })]);
    expect(result.notes.join('\n')).toMatch(/no recorded operation used Article\.source in the last 30 days/);
    // With a window that reaches the old usage, the same change fails.
    expect((await admin.check({ subgraph: 'news', sdl: withoutField(news, 'source: String!'), windowDays: 60 })).ok).toBe(false);
  });

  it('adding a nullable field is SAFE', async () => {
    const result = await admin.check({ subgraph: 'news', sdl: news.replace('  title: String!\n', '  title: String!\n  subtitle: String\n') });
    expect(result).toMatchObject({ ok: true, compositionErrors: [] });
    expect(result.changes).toEqual([expect.objectContaining({ level: 'SAFE', path: 'Article.subtitle' })]);
  });

  it('changing an argument type is BREAKING (and fails: ArticlePage passes that argument)', async () => {
    // The `first` of Query.articles (User.myFeed has one too, earlier in the SDL).
    const result = await admin.check({ subgraph: 'news', sdl: news.replace(/(\n {2}articles\([^)]*?\n) {4}first: Int! = 20\n/, '$1    first: String! = "20"\n') });
    const breaking = result.changes.filter((c: { level: string }) => c.level === 'BREAKING');
    expect(breaking).toEqual([expect.objectContaining({ type: 'FIELD_ARGUMENT_TYPE_CHANGED', path: 'Query.articles.first', verdict: 'FAILS' })]);
    expect(breaking[0].usage.map((u: { name: string }) => u.name)).toEqual(['ArticlePage']);
    expect(result.ok).toBe(false);
  });

  it('reports composition errors instead of changes when the change does not compose', async () => {
    const result = await admin.check({ subgraph: 'news', sdl: news.replace(USER_ID, '$1id: Int!') });
    expect(result.ok).toBe(false);
    expect(result.compositionErrors.length).toBeGreaterThan(0);
  });
});

describe('versions', () => {
  it('diff, changelog and rollback: a rollback is a new version with the old graph', async () => {
    const published = await admin.publish([{ name: 'news', sdl: news.replace('  title: String!\n', '  title: String!\n  subtitle: String\n'), url: urlOf('news') }]);
    expect(published).toMatchObject({ changed: true, version: 3 });
    const shown = await admin.version(3);
    expect(shown.changelog).toBe("SAFE (1):\n  - Field 'subtitle' was added to object type 'Article'");
    expect((await admin.diff(2, 3)).changes).toEqual([expect.objectContaining({ level: 'SAFE', path: 'Article.subtitle' })]);
    const back = await admin.rollback(2);
    expect(back).toMatchObject({ changed: true, version: 4, rolledBackTo: 2 });
    expect(back.changes).toEqual([expect.objectContaining({ level: 'BREAKING', path: 'Article.subtitle' })]);
    expect((await admin.supergraph()).text).toBe((await admin.supergraph(2)).text);
    expect((await admin.log()).map((v: { kind: string }) => v.kind)).toEqual(['rollback', 'publish', 'publish', 'publish']);
    expect(await admin.rollback(4)).toMatchObject({ changed: false, version: 4 });
  });
});

describe('usage queries', () => {
  it('answers operations by client with count and p95, and field usage by client', async () => {
    const ops = await admin.usageOperations({});
    const byName = Object.fromEntries(ops.operations.map((o: { name: string }) => [o.name, o]));
    expect(byName.ArticlePage).toMatchObject({ client: { name: 'web', version: '1.4' }, count: 40, errors: 0, meanMs: 12 });
    expect(byName.ArticlePage.p95Ms).toBeGreaterThan(10);
    expect(byName.ArticlePage.p95Ms).toBeLessThanOrEqual(12);
    expect(byName.Headlines).toMatchObject({ client: { name: 'ios', version: '2.0' }, count: 10 });
    expect(byName.OldSource).toBeUndefined(); // outside the default range (the last 24 hours)
    const web = await admin.usageOperations({ client: 'ios' });
    expect(web.operations.map((o: { name: string }) => o.name)).toEqual(['Headlines']);
    const fields = await admin.usageFields({ coordinate: 'Article' });
    expect(fields.fields).toEqual(
      expect.arrayContaining([
        { coordinate: 'Article.body', client: 'web', count: 40, operations: 1 },
        { coordinate: 'Article.title', client: 'ios', count: 10, operations: 1 },
      ]),
    );
    expect(await refusal(admin.usageOperations({ from: 'yesterday' }))).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: 'from' } });
  });

  it('forgets usage beyond the retention window', async () => {
    const check = () => admin.check({ subgraph: 'news', sdl: withoutField(news, 'source: String!'), windowDays: 60 });
    expect((await check()).ok).toBe(false); // OldSource, 40 days ago, used Article.source
    expect(await registry.usage.prune(35)).toBe(1);
    expect((await check()).ok).toBe(true);
  });

  it('refuses a batch that names an operation twice or counts usage in the future, and stores none of it', async () => {
    const op = { hash: 'e5'.repeat(16), name: 'Twice', coordinates: ['Article.title'] };
    const good = usageBatch(op, ['web', '9'], 3, 1);
    const twice = { ...good, operations: [...good.operations, ...good.operations] };
    expect(await refusal(admin.reportUsage(twice))).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: 'operations' } });
    const future = usageBatch(op, ['web', '9'], 3, 1, Date.now() + 24 * 3600_000);
    expect(await refusal(admin.reportUsage(future))).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: 'usage' } });
    const negative = usageBatch(op, ['web', '9'], 3, 1);
    negative.usage[0]!.errors = -1;
    expect(await refusal(admin.reportUsage(negative))).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: 'usage' } });
    expect((await admin.usageOperations({ client: 'web' })).operations.map((o: { name: string }) => o.name)).not.toContain('Twice');
  });

  it('refuses a batch counted with other latency buckets', async () => {
    const batch = { ...usageBatch({ hash: 'd4'.repeat(16), name: 'X', coordinates: [] }, ['web', '1'], 1, 1), latencyBoundsMs: [1, 2, 3] };
    expect(await refusal(admin.reportUsage(batch))).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: 'latencyBoundsMs' } });
  });
});
