// Issue 14 through the one endpoint, on a whole stack (real dynalite, Kafka and Redis): the
// news-source simulator publishes, news-ingest polls it into news.published.v1, the news subgraph
// stores and announces it; moderation, likes, the ranked feed and cacheable bodies as a client sees them.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_ADMIN, DEMO_USER, seedDemo } from '../../dev/src/demo.js';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, signInAdmin, uniqueName } from '@analytica/testing';

const run = uniqueName('e2e_news');
let stack: RunningStack;
let token: string;
let adminToken: string;
let simulatorUrl: string;
let newsUrl: string;

const sandbox = async (route: string, body: unknown) =>
  (await (await fetch(`${simulatorUrl}/sandbox${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as {
    title: string;
  };
const query = (text: string, as = token, variables?: Record<string, unknown>) => gql(stack.gatewayUrl, text, { token: as, variables });
type Node = { id: string; title: string; sources: string[]; likeCount: number };
const articlesAbout = async (symbol: string) =>
  ((await query(`{ articles(filter: { symbols: ["${symbol}"] }, first: 20) { edges { node { id title sources likeCount } } } }`)).data?.articles?.edges ?? []).map(
    (e: { node: Node }) => e.node,
  ) as Node[];
const myFeed = async () =>
  ((await query('{ me { myFeed(first: 50) { edges { node { id title } } } } }')).data?.me?.myFeed?.edges ?? []).map((e: { node: Node }) => e.node) as Node[];

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir: path.join(repoRoot, '.data/test-secrets'),
    env: { LOG_LEVEL: 'info', ...isolatedRunEnv(run) },
  });
  simulatorUrl = stack.services.get('news-sources')!.url;
  newsUrl = stack.services.get('news')!.url;
  await seedDemo(stack.gatewayUrl);
  token = (await gql(stack.gatewayUrl, `mutation { login(email: "${DEMO_USER.email}", password: "${DEMO_USER.password}") { accessToken } }`)).data.login.accessToken;
  adminToken = (await signInAdmin(stack.gatewayUrl, DEMO_ADMIN)).accessToken;
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

describe('news through the gateway', () => {
  it('shows an AAPL story from the simulator in articles(filter: { symbols: ["AAPL"] }) and as AAPL latestHeadline to a quote subscriber within 5 s', async () => {
    const headlines: { at: number; title: string | undefined }[] = [];
    const client = createClient({
      url: stack.gatewayUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const dispose = client.subscribe(
      { query: 'subscription { quote(symbol: "AAPL") { symbol latestHeadline { title } } }' },
      {
        next: (r) => void headlines.push({ at: Date.now(), title: (r.data as { quote?: { latestHeadline?: { title: string } } })?.quote?.latestHeadline?.title }),
        error: () => {},
        complete: () => {},
      },
    );
    try {
      await eventually(async () => (headlines.length > 0 ? true : undefined), 10_000);
      const title = `Apple (AAPL) opens a lunar campus ${run}`;
      const published = Date.now();
      await sandbox('/stories', { title, symbols: ['AAPL'], topics: ['markets'], sources: ['northgate'] });
      const seen = await eventually(async () => headlines.find((h) => h.title === title), 5000, 50);
      expect(seen.at - published).toBeLessThan(5000);
      expect((await articlesAbout('AAPL')).map((a) => a.title)).toContain(title);
    } finally {
      dispose();
      await client.dispose();
    }
  });

  it('stores one story from two feeds once, with both sources', async () => {
    const title = `Microsoft (MSFT) and a twin story ${run}`;
    await sandbox('/stories', { title, symbols: ['MSFT'], topics: ['markets'], sources: ['northgate', 'ledger'] });
    const both = await eventually(async () => {
      const found = (await articlesAbout('MSFT')).filter((a) => a.title === title);
      return found.length === 1 && found[0]!.sources.length === 2 ? found : undefined;
    }, 15_000);
    expect(both).toHaveLength(1);
    expect(both[0]!.sources.sort()).toEqual(['Northgate Markets Desk', 'The Ledger Wire']);
  });

  it('counts a like once under 20 concurrent likes', async () => {
    const [article] = await articlesAbout('MSFT');
    const answers = await Promise.all(Array.from({ length: 20 }, () => query('mutation($id: ID!) { likeArticle(id: $id) { likeCount likedByMe } }', token, { id: article!.id })));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const after = await query('query($id: ID!) { article(id: $id) { likeCount likedByMe } }', token, { id: article!.id });
    expect(after.data.article).toEqual({ likeCount: article!.likeCount + 1, likedByMe: true });
  });

  it('takes a hidden article out of articles and myFeed at once, audited; readers can flag, only admins moderate', async () => {
    const title = `Nvidia (NVDA) story to hide ${run}`;
    await sandbox('/stories', { title, symbols: ['NVDA'], topics: ['markets'], sources: ['harbour'] });
    const article = await eventually(async () => (await articlesAbout('NVDA')).find((a) => a.title === title), 15_000);
    // NVDA is on the demo watchlist, so myFeed (which @requires it from the market subgraph) has it.
    expect((await myFeed()).map((a) => a.id)).toContain(article.id);

    expect((await query('mutation($id: ID!) { flagArticle(id: $id, reason: "misleading") }', token, { id: article.id })).data.flagArticle).toBe(true);
    const refused = await query('mutation($id: ID!) { hideArticle(id: $id, reason: "x") { id } }', token, { id: article.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const queue = await query('{ articleFlags { articleId reason article { title } } }', adminToken);
    expect(queue.data.articleFlags).toEqual(expect.arrayContaining([{ articleId: article.id, reason: 'misleading', article: { title } }]));
    const noReason = await query('mutation($id: ID!) { hideArticle(id: $id, reason: " ") { id } }', adminToken, { id: article.id });
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });

    const hidden = await query('mutation($id: ID!) { hideArticle(id: $id, reason: "misleading headline") { id } }', adminToken, { id: article.id });
    expect(hidden.errors).toBeUndefined();
    // At once: the very next reads.
    expect((await articlesAbout('NVDA')).map((a) => a.id)).not.toContain(article.id);
    expect((await myFeed()).map((a) => a.id)).not.toContain(article.id);
    expect((await query('query($id: ID!) { article(id: $id) { id } }', token, { id: article.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await query('{ articleFlags { articleId } }', adminToken)).data.articleFlags.map((f: { articleId: string }) => f.articleId)).not.toContain(article.id);
    const log = await query('{ newsAuditLog(first: 10) { action targetId reason actorId } }', adminToken);
    expect(log.data.newsAuditLog[0]).toMatchObject({ action: 'HIDE_ARTICLE', targetId: article.id, reason: 'misleading headline' });

    await query('mutation($id: ID!) { restoreArticle(id: $id) { id } }', adminToken, { id: article.id });
    expect((await articlesAbout('NVDA')).map((a) => a.id)).toContain(article.id);
  });

  it('sorts by popularity and refuses bad input naming the field', async () => {
    const popular = await query('{ articles(sort: POPULAR, first: 5) { edges { node { id popularity } } } }');
    expect(popular.errors).toBeUndefined();
    const scores = popular.data.articles.edges.map((e: { node: { popularity: number } }) => e.node.popularity);
    expect(scores[0]).toBeGreaterThanOrEqual(1);
    const bad = await query('{ articles(filter: { symbols: ["not a symbol"] }) { edges { cursor } } }');
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.symbols' });
  });

  it('serves an article body as static content that answers 304 to its ETag', async () => {
    const [article] = await articlesAbout('MSFT');
    const first = await fetch(`${newsUrl}/content/articles/${article!.id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    const etag = first.headers.get('etag')!;
    expect(await first.text()).toContain('<article>');
    const again = await fetch(`${newsUrl}/content/articles/${article!.id}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});
