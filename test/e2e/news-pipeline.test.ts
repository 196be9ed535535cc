// Issue 14's acceptance on the news pipeline's own three processes (the news-source simulator,
// news-ingest and the news subgraph, as the stack launcher runs them) against real dynalite, Kafka
// and Redis, asked straight at the news subgraph. test/e2e/news.test.ts asks the same through the
// gateway on a whole stack.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { newsIngestEnv } from '../../dev/src/news.js';
import { entryOf, repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '../../dev/src/processes.js';
import { createTestAuth, eventually, freePort, gql, isolatedRunEnv, services, uniqueName, type TestAuth } from '@analytica/testing';

const run = uniqueName('news_e2e');
const env = isolatedRunEnv(run);
const USER = 'a11ce000-0000-4000-8000-0000000000a1';
const ADMIN = 'ad000000-0000-4000-8000-0000000000ad';
let auth: TestAuth;
let simulator: ServiceProcess;
let news: ServiceProcess;
let ingest: ServiceProcess;

const sandbox = async (route: string, body: unknown) =>
  (await (await fetch(`${simulator.url}/sandbox${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as {
    title: string;
  };
const query = (text: string, as: { id: string; role?: 'USER' | 'ADMIN' } = { id: USER }, variables?: Record<string, unknown>) =>
  gql(`${news.url}/graphql`, text, { token: auth.tokenFor(as), variables });
type Node = { id: string; title: string; sources: string[]; likeCount: number };
const articlesAbout = async (symbol: string) =>
  ((await query(`{ articles(filter: { symbols: ["${symbol}"] }, first: 20) { edges { node { id title sources likeCount } } } }`)).data?.articles?.edges ?? []).map(
    (e: { node: Node }) => e.node,
  ) as Node[];
/** myFeed as the gateway asks for it: the user's representation carries the watchlist the market subgraph gave (@requires). */
const myFeed = async (watchlist: string[]) => {
  const result = await query(
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { myFeed(first: 50) { edges { node { id title } } } } } }',
    { id: USER },
    { r: [{ __typename: 'User', id: USER, watchlist: watchlist.map((symbol) => ({ symbol })) }] },
  );
  expect(result.errors).toBeUndefined();
  return result.data._entities[0].myFeed.edges.map((e: { node: Node }) => e.node) as Node[];
};
const headline = async (symbol: string) =>
  (await query(`{ _entities(representations: [{ __typename: "Quote", symbol: "${symbol}" }]) { ... on Quote { latestHeadline { id title } } } }`)).data?._entities?.[0]
    ?.latestHeadline as { id: string; title: string } | null;

beforeAll(async () => {
  auth = await createTestAuth();
  const logDir = path.join(repoRoot, '.data/test-logs', run);
  const common = { ...env, ...auth.env, LOG_LEVEL: 'info', NODE_ENV: 'development', METRICS_PORT: '0' };
  simulator = spawnService('news-sources', entryOf('news-sources'), await freePort(), { ...common, NEWS_INTERVAL_MS: '0', NEWS_INITIAL_STORIES: '3' }, logDir);
  news = spawnService('news', entryOf('news'), await freePort(), { ...common, NEWS_CONSUME_PUBLISHED: 'true' }, logDir);
  await Promise.all([waitUntilReady(simulator, 240_000), waitUntilReady(news, 240_000)]);
  // The launchers' own NEWS_SOURCES (every simulated source), polled faster here.
  const sources = JSON.parse((await newsIngestEnv(simulator.url)).NEWS_SOURCES!) as { intervalMs: number }[];
  ingest = spawnService(
    'news-ingest',
    entryOf('news-ingest'),
    await freePort(),
    { ...common, NEWS_FETCH_TIMEOUT_MS: '1500', NEWS_SOURCES: JSON.stringify(sources.map((s) => ({ ...s, intervalMs: 250 }))) },
    logDir,
  );
  await waitUntilReady(ingest, 240_000);
}, 600_000);

afterAll(async () => {
  await Promise.all([ingest, news, simulator].filter(Boolean).map((p) => stopProcess(p)));
  const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
  await deleteTablesWithPrefix(dynamo, env.DYNAMODB_TABLE_PREFIX!);
  dynamo.close();
  await auth?.close();
});

describe('the news pipeline', () => {
  it('lists an AAPL story in articles(filter: { symbols: ["AAPL"] }) and makes it AAPL latestHeadline, announced on Quote.AAPL, within 5 s of the simulator publishing it', async () => {
    const subscriber = createRedis(services.redisUrl);
    const announced: number[] = [];
    subscriber.on('message', () => announced.push(Date.now()));
    await subscriber.subscribe(`${env.REDIS_KEY_PREFIX}Quote.AAPL`);
    try {
      const title = `Apple (AAPL) opens a lunar campus ${run}`;
      const published = Date.now();
      await sandbox('/stories', { title, symbols: ['AAPL'], topics: ['markets'], sources: ['northgate'] });
      await eventually(async () => ((await articlesAbout('AAPL')).some((a) => a.title === title) ? true : undefined), 5000, 50);
      await eventually(async () => ((await headline('AAPL'))?.title === title ? true : undefined), 5000, 50);
      await eventually(async () => (announced.length ? true : undefined), 5000, 50);
      expect(Date.now() - published).toBeLessThan(5000);
    } finally {
      subscriber.disconnect();
    }
  });

  it('stores one story from two feeds once, with both sources', async () => {
    const title = `Microsoft (MSFT) and a twin story ${run}`;
    await sandbox('/stories', { title, symbols: ['MSFT'], topics: ['markets'], sources: ['northgate', 'ledger'] });
    const both = await eventually(async () => {
      const found = (await articlesAbout('MSFT')).filter((a) => a.title === title);
      return found.length === 1 && found[0]!.sources.length === 2 ? found : undefined;
    }, 10_000);
    expect(both[0]!.sources.sort()).toEqual(['Northgate Markets Desk', 'The Ledger Wire']);
    // Syndicated: the same text under the second source's own URL is the same article too.
    const syndicated = `Microsoft (MSFT) syndicated story ${run}`;
    await sandbox('/stories', { title: syndicated, symbols: ['MSFT'], topics: ['markets'], sources: ['harbour', 'ledger'], syndicated: true });
    const once = await eventually(async () => {
      const found = (await articlesAbout('MSFT')).filter((a) => a.title === syndicated);
      return found.length === 1 && found[0]!.sources.length === 2 ? found : undefined;
    }, 10_000);
    expect(once).toHaveLength(1);
  });

  it('counts a like once under 20 concurrent likes (conditional writes)', async () => {
    const [article] = await articlesAbout('MSFT');
    const answers = await Promise.all(Array.from({ length: 20 }, () => query('mutation($id: ID!) { likeArticle(id: $id) { likeCount } }', { id: USER }, { id: article!.id })));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const after = await query('query($id: ID!) { article(id: $id) { likeCount likedByMe popularity } }', { id: USER }, { id: article!.id });
    expect(after.data.article).toMatchObject({ likeCount: article!.likeCount + 1, likedByMe: true });
  });

  it('takes a hidden article out of articles, myFeed and latestHeadline at once; flags, admin-only moderation and the audit log', async () => {
    const title = `Nvidia (NVDA) story to hide ${run}`;
    await sandbox('/stories', { title, symbols: ['NVDA'], topics: ['markets'], sources: ['harbour'] });
    const article = await eventually(async () => (await articlesAbout('NVDA')).find((a) => a.title === title), 10_000);
    expect((await myFeed(['NVDA'])).map((a) => a.id)).toContain(article.id);
    expect((await headline('NVDA'))?.id).toBe(article.id);

    expect((await query('mutation($id: ID!) { flagArticle(id: $id, reason: "misleading") }', { id: USER }, { id: article.id })).data.flagArticle).toBe(true);
    const refused = await query('mutation($id: ID!) { hideArticle(id: $id, reason: "x") { id } }', { id: USER }, { id: article.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const admin = { id: ADMIN, role: 'ADMIN' as const };
    const queue = await query('{ articleFlags { articleId flaggedBy reason article { title } } }', admin);
    expect(queue.data.articleFlags).toEqual(expect.arrayContaining([{ articleId: article.id, flaggedBy: USER, reason: 'misleading', article: { title } }]));
    const noReason = await query('mutation($id: ID!) { hideArticle(id: $id, reason: " ") { id } }', admin, { id: article.id });
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });

    const hidden = await query('mutation($id: ID!) { hideArticle(id: $id, reason: "misleading headline") { id } }', admin, { id: article.id });
    expect(hidden.errors).toBeUndefined();
    // At once: the very next reads.
    expect((await articlesAbout('NVDA')).map((a) => a.id)).not.toContain(article.id);
    expect((await myFeed(['NVDA'])).map((a) => a.id)).not.toContain(article.id);
    expect((await headline('NVDA'))?.id).not.toBe(article.id);
    expect((await query('query($id: ID!) { article(id: $id) { id } }', { id: USER }, { id: article.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await fetch(`${news.url}/content/articles/${article.id}`)).status).toBe(404);
    expect((await query('{ articleFlags { articleId } }', admin)).data.articleFlags.map((f: { articleId: string }) => f.articleId)).not.toContain(article.id);
    const log = await query('{ newsAuditLog(first: 10) { action targetId reason actorId } }', admin);
    expect(log.data.newsAuditLog[0]).toEqual({ action: 'HIDE_ARTICLE', targetId: article.id, reason: 'misleading headline', actorId: ADMIN });

    // Blocking its only source keeps it out even when restored; lifting the block brings it back.
    await query('mutation { blockNewsSource(name: "Harbour Street Journal", reason: "spam") { blocked } }', admin);
    await query('mutation($id: ID!) { restoreArticle(id: $id) { id } }', admin, { id: article.id });
    expect((await articlesAbout('NVDA')).map((a) => a.id)).not.toContain(article.id);
    await query('mutation { unblockNewsSource(name: "Harbour Street Journal") { blocked } }', admin);
    expect((await articlesAbout('NVDA')).map((a) => a.id)).toContain(article.id);
    const actions = (await query('{ newsAuditLog(first: 3) { action } }', admin)).data.newsAuditLog.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['UNBLOCK_SOURCE', 'RESTORE_ARTICLE', 'BLOCK_SOURCE']);
  });

  it('filters, sorts by popularity, ranks myFeed by follows, and refuses bad input naming the field', async () => {
    const popular = await query('{ articles(sort: POPULAR, first: 3) { edges { node { id likeCount popularity } } } }');
    expect(popular.errors).toBeUndefined();
    expect(popular.data.articles.edges[0].node.popularity).toBeGreaterThanOrEqual(3); // the liked one
    const two = await query('{ articles(filter: { symbols: ["MSFT", "NVDA"], topics: ["markets"] }, first: 50) { edges { node { symbols } } } }');
    expect(two.data.articles.edges.length).toBeGreaterThanOrEqual(3);
    for (const e of two.data.articles.edges) expect(e.node.symbols.some((s: string) => ['MSFT', 'NVDA'].includes(s))).toBe(true);
    expect((await query('{ articles(filter: { since: "2999-01-01T00:00:00Z" }) { edges { cursor } } }')).data.articles.edges).toEqual([]);

    const aaplStory = (feed: Node[]) => feed.findIndex((a) => a.title.startsWith('Apple (AAPL) opens a lunar campus'));
    const before = aaplStory(await myFeed([]));
    const followed = await query('mutation { followNewsSymbol(symbol: "aapl") { symbols topics } }');
    expect(followed.data.followNewsSymbol).toEqual({ symbols: ['AAPL'], topics: [] });
    const after = aaplStory(await myFeed([]));
    expect(after).toBeGreaterThanOrEqual(0);
    expect(after).toBeLessThan(Math.max(before, 1)); // followed: it rises (or stays first)
    const preferences = await query(`{ _entities(representations: [{ __typename: "User", id: "${USER}" }]) { ... on User { newsPreferences { symbols } } } }`);
    expect(preferences.data._entities[0].newsPreferences.symbols).toEqual(['AAPL']);

    const bad = await query('{ articles(filter: { symbols: ["not a symbol"] }) { edges { cursor } } }');
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.symbols' });
    const both = await query('{ articles(symbol: "AAPL", filter: { topics: ["markets"] }) { edges { cursor } } }');
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' });
  });

  it('serves an article body as static content: Cache-Control, ETag, and 304 when fetched again with it', async () => {
    const [article] = await articlesAbout('MSFT');
    const first = await fetch(`${news.url}/content/articles/${article!.id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=60');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(await first.text()).toContain(article!.title.replace(/&/g, '&#38;'));
    const again = await fetch(`${news.url}/content/articles/${article!.id}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });
});
