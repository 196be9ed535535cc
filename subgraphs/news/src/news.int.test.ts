import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer } from '@analytica/auth';
import { batchWrite, createDynamo, DeleteCommand, deleteTablesWithPrefix, ScanCommand, UpdateCommand } from '@analytica/dynamo';
import { AUDIENCE, createTestAuth, gql, ISSUER, services, uniqueName, type TestAuth } from '@analytica/testing';
import { readReferenceFile } from '@analytica/instruments';
import { enrichBundledArticle, ingestArticleBundle, readArticleBundle, type ArticleBundle } from './articles/articles.js';
import { createEnricher } from './enrich/index.js';
import { parseNewsEnv, startNewsService } from './index.js';

const tablePrefix = `${uniqueName('news')}_`;
const alice = { id: 'a11ce000-0000-4000-8000-000000000001' };
const bob = { id: 'b0b00000-0000-4000-8000-000000000002' };

let auth: TestAuth;
let bundle: ArticleBundle;
let service: Awaited<ReturnType<typeof startNewsService>>;
let url: string;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const store = { dynamo, articlesTable: `${tablePrefix}articles`, userArticlesTable: `${tablePrefix}user_articles` };

const envFor = () =>
  parseNewsEnv({
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...auth.env,
    DYNAMODB_ENDPOINT: services.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: tablePrefix,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${tablePrefix}.`,
  });

beforeAll(async () => {
  auth = await createTestAuth();
  // As the service stores them: enriched at seeding (tickers and topics found in the text added).
  const enricher = createEnricher((await readReferenceFile()).instruments);
  const given = await readArticleBundle();
  bundle = { ...given, articles: given.articles.map((a) => enrichBundledArticle(a, enricher)) };
  service = await startNewsService(envFor());
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
  await auth?.close();
});

const as = (user: { id: string; role?: 'USER' | 'ADMIN' }) => (query: string, variables?: Record<string, unknown>) => gql(url, query, { token: auth.tokenFor(user), variables });
const asAlice = as(alice);
const asBob = as(bob);

/** Newest first, as the service orders them: by publishedAt, then by id. */
const expectedIds = (keep: (a: ArticleBundle['articles'][number]) => boolean) =>
  bundle.articles
    .filter(keep)
    .sort((a, b) => b.publishedAt.localeCompare(a.publishedAt) || b.id.localeCompare(a.id))
    .map((a) => a.id);

const PAGE = `query($topic: String, $symbol: String, $first: Int!, $after: String) {
  articles(topic: $topic, symbol: $symbol, first: $first, after: $after) {
    edges { cursor node { id publishedAt topics } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function readAllPages(variables: { topic?: string; symbol?: string; first: number }) {
  const ids: string[] = [];
  const pageSizes: number[] = [];
  let after: string | null = null;
  for (;;) {
    const result = await asAlice(PAGE, { ...variables, after });
    expect(result.errors).toBeUndefined();
    const { edges, pageInfo } = result.data.articles;
    ids.push(...edges.map((e: { node: { id: string } }) => e.node.id));
    pageSizes.push(edges.length);
    if (!pageInfo.hasNextPage) return { ids, pageSizes };
    after = pageInfo.endCursor;
  }
}

const SAVED = `query($id: ID!) { _entities(representations: [{ __typename: "User", id: $id }]) { ... on User { savedArticles { id savedByMe } } } }`;
const savedIds = async (caller: { id: string; role?: 'USER' | 'ADMIN' }, owner: { id: string }) => {
  const result = await gql(url, SAVED, { token: auth.tokenFor(caller), variables: { id: owner.id } });
  return { result, ids: result.data?._entities?.[0]?.savedArticles?.map((a: { id: string }) => a.id) as string[] | undefined };
};

describe('news service', () => {
  it('lists a topic newest first in cursor pages that neither skip nor repeat an article', async () => {
    const expected = expectedIds((a) => a.topics.includes('markets'));
    expect(expected.length).toBeGreaterThan(14);
    const { ids, pageSizes } = await readAllPages({ topic: 'Markets', first: 7 });
    expect(ids).toEqual(expected);
    expect(pageSizes.slice(0, -1).every((n) => n === 7)).toBe(true);
  });

  it('lists by symbol, and by symbol within a topic', async () => {
    expect((await readAllPages({ symbol: 'nvda', first: 2 })).ids).toEqual(expectedIds((a) => a.symbols.includes('NVDA')));
    const both = await readAllPages({ symbol: 'AAPL', topic: 'earnings', first: 1 });
    expect(both.ids).toEqual(expectedIds((a) => a.symbols.includes('AAPL') && a.topics.includes('earnings')));
    expect((await readAllPages({ first: 50 })).ids).toEqual(expectedIds(() => true));
    expect((await readAllPages({ topic: 'no-such-topic', first: 5 })).ids).toEqual([]);
  });

  it('refuses a cursor from another list and a page size out of range, naming the argument', async () => {
    const first = await asAlice(PAGE, { topic: 'crypto', first: 1 });
    const foreign = await asAlice(PAGE, { topic: 'economy', first: 1, after: first.data.articles.pageInfo.endCursor });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const forged = await asAlice(PAGE, { first: 1, after: 'bm90IGEgY3Vyc29y' });
    expect(forged.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const tooMany = await asAlice(PAGE, { first: 51 });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('saves and unsaves articles and lists the saved ones newest saved first', async () => {
    const [a, b, c] = expectedIds((x) => x.topics.includes('personal-finance'));
    for (const id of [a, b, c]) {
      const saved = await asAlice('mutation($id: ID!) { saveArticle(id: $id) { id savedByMe likedByMe } }', { id });
      expect(saved.data.saveArticle).toEqual({ id, savedByMe: true, likedByMe: false });
    }
    expect((await savedIds(alice, alice)).ids).toEqual([c, b, a]);

    const unsaved = await asAlice('mutation($id: ID!) { unsaveArticle(id: $id) { savedByMe } }', { id: b });
    expect(unsaved.data.unsaveArticle.savedByMe).toBe(false);
    await asAlice('mutation($id: ID!) { saveArticle(id: $id) { id } }', { id: a });
    const { result, ids } = await savedIds(alice, alice);
    expect(ids).toEqual([c, a]);
    expect(result.data._entities[0].savedArticles.every((x: { savedByMe: boolean }) => x.savedByMe)).toBe(true);
  });

  it('pages through saved articles newest saved first, neither skipping nor repeating, and fills a page past a hidden one', async () => {
    const carol = { id: 'ca201000-0000-4000-8000-000000000003' };
    const asCarol = as(carol);
    const toSave = expectedIds(() => true).slice(0, 7);
    for (const id of toSave) expect((await asCarol('mutation($id: ID!) { saveArticle(id: $id) { id } }', { id })).errors).toBeUndefined();
    const PAGES = `query($id: ID!, $first: Int!, $after: String) { _entities(representations: [{ __typename: "User", id: $id }]) {
      ... on User { savedArticlesConnection(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } } }`;
    const readAll = async (first: number) => {
      const ids: string[] = [];
      const sizes: number[] = [];
      let after: string | null = null;
      // Seven articles take at most seven pages; more means the cursor does not move on.
      for (let page = 0; page < 8; page++) {
        const result = await asCarol(PAGES, { id: carol.id, first, after });
        expect(result.errors).toBeUndefined();
        const { edges, pageInfo } = result.data._entities[0].savedArticlesConnection;
        ids.push(...edges.map((e: { node: { id: string } }) => e.node.id));
        sizes.push(edges.length);
        if (!pageInfo.hasNextPage) return { ids, sizes };
        after = pageInfo.endCursor;
      }
      return { ids, sizes, endless: true };
    };
    expect(await readAll(3)).toEqual({ ids: [...toSave].reverse(), sizes: [3, 3, 1] });

    const admin = as({ id: 'ad000000-0000-4000-8000-000000000004', role: 'ADMIN' });
    const hidden = toSave[4]!;
    expect((await admin('mutation($id: ID!) { hideArticle(id: $id, reason: "test") { id } }', { id: hidden })).errors).toBeUndefined();
    try {
      const first = await asCarol(PAGES, { id: carol.id, first: 3 });
      expect(first.data._entities[0].savedArticlesConnection.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([toSave[6], toSave[5], toSave[3]]);
      expect((await readAll(3)).ids).toEqual([...toSave].reverse().filter((id) => id !== hidden));
    } finally {
      await admin('mutation($id: ID!) { restoreArticle(id: $id) { id } }', { id: hidden });
    }
    // A cursor of another list (the articles of every topic) is refused.
    const foreign = await asCarol(PAGES, { id: carol.id, first: 3, after: Buffer.from(JSON.stringify({ f: 'ALL', s: 'x' })).toString('base64url') });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const others = await asBob(PAGES, { id: carol.id, first: 3 });
    expect(others.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('counts a like once per user, even when the same like arrives twice at once', async () => {
    const id = expectedIds((x) => x.topics.includes('crypto'))[0];
    const LIKE = 'mutation($id: ID!) { likeArticle(id: $id) { likeCount likedByMe } }';
    const UNLIKE = 'mutation($id: ID!) { unlikeArticle(id: $id) { likeCount likedByMe } }';
    const results = await Promise.all(Array.from({ length: 6 }, () => asAlice(LIKE, { id })));
    for (const r of results) expect(r.errors).toBeUndefined();
    const count = async (who = asAlice) => (await who('query($id: ID!) { article(id: $id) { likeCount likedByMe } }', { id })).data.article;
    expect(await count()).toEqual({ likeCount: 1, likedByMe: true });

    expect((await asBob(LIKE, { id })).data.likeArticle).toEqual({ likeCount: 2, likedByMe: true });
    const unliked = await Promise.all([asAlice(UNLIKE, { id }), asAlice(UNLIKE, { id })]);
    for (const r of unliked) expect(r.errors).toBeUndefined();
    expect(await count()).toEqual({ likeCount: 1, likedByMe: false });
    expect(await count(asBob)).toEqual({ likeCount: 1, likedByMe: true });
  });

  it('answers an unknown article with NOT_FOUND naming the id', async () => {
    for (const query of [
      '{ article(id: "no-such-article") { id } }',
      'mutation { saveArticle(id: "no-such-article") { id } }',
      'mutation { likeArticle(id: "no-such-article") { id } }',
    ]) {
      const result = await asAlice(query);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
      expect(result.errors?.[0]?.message, query).toContain('no-such-article');
    }
  });

  it("keeps one user's saved articles from another, including through _entities", async () => {
    const { result, ids } = await savedIds(bob, alice);
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(ids).toBeUndefined();
    expect((await savedIds(bob, bob)).ids).toEqual([]);

    const aliceSaved = (await savedIds(alice, alice)).ids!;
    const seenByBob = await asBob('query($id: ID!) { article(id: $id) { savedByMe } }', { id: aliceSaved[0] });
    expect(seenByBob.data.article.savedByMe).toBe(false);
    await asBob('mutation($id: ID!) { unsaveArticle(id: $id) { id } }', { id: aliceSaved[0] });
    expect((await savedIds(alice, alice)).ids).toEqual(aliceSaved);
    // An admin may look, as everywhere else.
    expect((await savedIds({ id: bob.id, role: 'ADMIN' }, alice)).ids).toEqual(aliceSaved);
  });

  it('refuses every read and change without a token', async () => {
    const id = bundle.articles[0]!.id;
    for (const query of [
      '{ articles { edges { node { id } } } }',
      `{ article(id: "${id}") { title } }`,
      `mutation { saveArticle(id: "${id}") { id } }`,
      `mutation { likeArticle(id: "${id}") { id } }`,
      `{ _entities(representations: [{ __typename: "User", id: "${alice.id}" }]) { ... on User { savedArticles { id } } } }`,
      `{ _entities(representations: [{ __typename: "Article", id: "${id}" }]) { ... on Article { title } } }`,
    ]) {
      const result = await gql(url, query);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(result.data ?? null), query).not.toContain(bundle.articles[0]!.title);
    }
  });

  it('resolves Article entities for a signed-in caller, with their own state', async () => {
    const [saved] = (await savedIds(alice, alice)).ids!;
    const result = await asAlice(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Article { id savedByMe } } }`, {
      r: [
        { __typename: 'Article', id: saved },
        { __typename: 'Article', id: 'no-such-article' },
      ],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([{ id: saved, savedByMe: true }, null]);
  });

  it('ingests each bundle version once, never resets like counts and drops feeds an article left', async () => {
    const liked = expectedIds((x) => x.topics.includes('crypto'))[0]!;
    const likeCount = async () => (await asAlice('query($id: ID!) { article(id: $id) { likeCount topics } }', { id: liked })).data.article;
    const before = await likeCount();
    const second = await startNewsService(envFor());
    await second.stop();
    expect(await likeCount()).toEqual(before);

    const edited = {
      ...bundle,
      version: `${bundle.version}-edited`,
      articles: bundle.articles.map((a) => (a.id === liked ? { ...a, topics: ['markets'] } : a)),
    };
    expect(await ingestArticleBundle(store, edited)).toBe('loaded');
    expect(await ingestArticleBundle(store, edited)).toBe('current');
    expect(await likeCount()).toEqual({ likeCount: before.likeCount, topics: ['markets'] });
    expect((await readAllPages({ topic: 'crypto', first: 50 })).ids).not.toContain(liked);
    expect((await readAllPages({ topic: 'markets', first: 50 })).ids).toContain(liked);
  });

  it('reports ready while DynamoDB answers', async () => {
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { dynamodb: 'ok' } });
  });
});

describe('partner apps', () => {
  it("read articles and headlines with their own token, but nobody's saves or likes", async () => {
    const appId = randomUUID();
    const partner = { id: randomUUID(), appId, contract: 'market-data', scopes: ['read'], trustedDocumentsOnly: false, ratePerMinute: 600, dailyQuota: 100_000 };
    const token = createTokenIssuer(auth.privateKeyPem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 900 }).issue(
      { id: appId, role: 'PARTNER', sessionId: appId, partner },
      randomUUID(),
    );
    const page = await gql(url, '{ articles(first: 2) { edges { node { id title } } } }', { token });
    expect(page.errors).toBeUndefined();
    const id = page.data.articles.edges[0].node.id as string;
    const one = await gql(url, 'query($id: ID!) { article(id: $id) { id } }', { token, variables: { id } });
    expect(one.data.article).toEqual({ id });
    const headline = await gql(url, '{ _entities(representations: [{ __typename: "Quote", symbol: "AAPL" }]) { ... on Quote { latestHeadline { id } } } }', { token });
    expect(headline.errors).toBeUndefined();
    for (const [query, variables] of [
      ['query($id: ID!) { article(id: $id) { savedByMe } }', { id }],
      ['mutation($id: ID!) { saveArticle(id: $id) { id } }', { id }],
      [SAVED, { id: alice.id }],
    ] as const) {
      const refused = await gql(url, query, { token, variables });
      expect(refused.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
    }
  });
});

describe('moderation lists (administrators)', () => {
  const moderator = { id: 'ad000000-0000-4000-8000-000000000005', role: 'ADMIN' as const };
  const asAdmin = as(moderator);
  const auditTableName = `${tablePrefix}news_audit`;
  type Edge<T> = { cursor: string; node: T };
  type Connection<T> = { edges: Edge<T>[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount?: number };

  /** Every page of a connection, `first` at a time, as the nodes and the page sizes (and the totals each page gave). */
  async function readPages<T>(field: string, selection: string, first: number, from: string | null = null) {
    const nodes: T[] = [];
    const cursors: string[] = [];
    const sizes: number[] = [];
    const totals = new Set<number | undefined>();
    const counted = field !== 'newsAuditLogConnection';
    let after = from;
    for (let page = 0; page < 100; page++) {
      const result = await asAdmin(
        `query($first: Int!, $after: String) { ${field}(first: $first, after: $after) { edges { cursor node { ${selection} } } pageInfo { hasNextPage endCursor } ${counted ? 'totalCount' : ''} } }`,
        { first, after },
      );
      expect(result.errors).toBeUndefined();
      const connection = result.data[field] as Connection<T>;
      nodes.push(...connection.edges.map((e) => e.node));
      cursors.push(...connection.edges.map((e) => e.cursor));
      sizes.push(connection.edges.length);
      totals.add(connection.totalCount);
      if (connection.edges.length) expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)!.cursor);
      if (!connection.pageInfo.hasNextPage) return { nodes, cursors, sizes, totals: [...totals] };
      after = connection.pageInfo.endCursor;
    }
    throw new Error(`${field}: the cursor does not move on`);
  }

  it('pages through the flag queue newest first, each flag once, with how many flags wait', async () => {
    const articles = expectedIds(() => true).slice(0, 3);
    const readers = Array.from({ length: 7 }, (_, n) => ({ id: `f1a90000-0000-4000-8000-00000000000${n}` }));
    for (const [n, reader] of readers.entries()) {
      const flagged = await as(reader)('mutation($id: ID!, $reason: String!) { flagArticle(id: $id, reason: $reason) }', { id: articles[n % 3], reason: `reason ${n}` });
      expect(flagged.data.flagArticle).toBe(true);
    }
    try {
      const whole = await readPages<{ articleId: string; flaggedBy: string; reason: string; flaggedAt: string }>(
        'articleFlagsConnection',
        'articleId flaggedBy reason flaggedAt article { id }',
        100,
      );
      expect(whole.sizes).toEqual([7]);
      expect(whole.totals).toEqual([7]);
      expect(new Set(whole.nodes.map((f) => `${f.articleId} ${f.flaggedBy} ${f.reason}`))).toEqual(new Set(readers.map((r, n) => `${articles[n % 3]} ${r.id} reason ${n}`)));
      const times = whole.nodes.map((f) => f.flaggedAt);
      expect(times).toEqual([...times].sort().reverse());

      const paged = await readPages('articleFlagsConnection', 'articleId flaggedBy reason flaggedAt article { id }', 3);
      expect(paged.nodes).toEqual(whole.nodes);
      expect(paged.sizes).toEqual([3, 3, 1]);
      expect(paged.totals).toEqual([7]);

      expect((await asAdmin('mutation($id: ID!) { dismissArticleFlags(id: $id) }', { id: articles[0] })).data.dismissArticleFlags).toBe(3);
      const rest = await readPages<{ articleId: string }>('articleFlagsConnection', 'articleId', 2);
      expect(rest.totals).toEqual([4]);
      expect(rest.sizes).toEqual([2, 2]);
      expect(rest.nodes.map((f) => f.articleId)).not.toContain(articles[0]);
    } finally {
      for (const id of articles) await asAdmin('mutation($id: ID!) { dismissArticleFlags(id: $id) }', { id });
    }
  });

  it('lists every hidden article however many actions came after it, a page at a time, with the total', async () => {
    const hidden = expectedIds(() => true).slice(3, 8);
    for (const id of hidden) expect((await asAdmin('mutation($id: ID!) { hideArticle(id: $id, reason: "off topic") { id } }', { id })).errors).toBeUndefined();
    // 250 later actions: the newest 200 entries of the log say nothing about the articles hidden above.
    const now = Date.now();
    await batchWrite(
      dynamo,
      auditTableName,
      Array.from({ length: 250 }, (_, n) => {
        const at = new Date(now + 1 + n).toISOString();
        const id = randomUUID();
        return {
          PutRequest: {
            Item: { log: `AUDIT#${at.slice(0, 7)}`, at: `${at}#${id}`, id, actorId: moderator.id, action: 'DISMISS_FLAGS', targetType: 'ARTICLE', targetId: 'other', reason: null },
          },
        };
      }),
    );
    try {
      const newest = await asAdmin('{ newsAuditLog(first: 200) { action targetId } }');
      expect(newest.data.newsAuditLog.filter((e: { action: string }) => e.action === 'HIDE_ARTICLE')).toEqual([]);

      const pages = await readPages<{ articleId: string; hiddenBy: string; reason: string; hiddenAt: string; article: { id: string } }>(
        'hiddenArticles',
        'articleId hiddenBy reason hiddenAt article { id }',
        2,
      );
      expect(pages.nodes.map((h) => h.articleId)).toEqual([...hidden].reverse());
      expect(pages.sizes).toEqual([2, 2, 1]);
      expect(pages.totals).toEqual([5]);
      for (const node of pages.nodes) expect(node).toMatchObject({ hiddenBy: moderator.id, reason: 'off topic', article: { id: node.articleId } });

      await asAdmin('mutation($id: ID!) { restoreArticle(id: $id) { id } }', { id: hidden[0] });
      const after = await readPages<{ articleId: string }>('hiddenArticles', 'articleId', 50);
      expect(after.nodes.map((h) => h.articleId)).toEqual(hidden.slice(1).reverse());
      expect(after.totals).toEqual([4]);
    } finally {
      for (const id of hidden) await asAdmin('mutation($id: ID!) { restoreArticle(id: $id) { id } }', { id });
    }
    expect((await readPages('hiddenArticles', 'articleId', 50)).totals).toEqual([0]);
  });

  it('pages through the moderation log newest first across months, each entry once, back 24 months', async () => {
    const monthsAgo = (months: number, n: number) => {
      const at = new Date();
      at.setUTCDate(1);
      at.setUTCMonth(at.getUTCMonth() - months);
      at.setUTCHours(12, 0, 0, n);
      return at.toISOString();
    };
    // This month, two months back, five months back (the months between are empty), 23 months back and
    // one older than the log is read; two pairs share their millisecond.
    const times = [
      ...[0, 3, 3].map((n) => monthsAgo(0, n)),
      ...[0, 1, 1, 2].map((n) => monthsAgo(2, n)),
      ...[0, 7].map((n) => monthsAgo(5, n)),
      monthsAgo(23, 0),
      monthsAgo(24, 0),
    ];
    await batchWrite(
      dynamo,
      auditTableName,
      times.map((at) => {
        const id = randomUUID();
        return {
          PutRequest: {
            Item: {
              log: `AUDIT#${at.slice(0, 7)}`,
              at: `${at}#${id}`,
              id,
              actorId: moderator.id,
              action: 'BLOCK_SOURCE',
              targetType: 'SOURCE',
              targetId: 'Old Wire',
              reason: 'old',
            },
          },
        };
      }),
    );
    const horizon = monthsAgo(23, 0).slice(0, 7);
    const stored = await dynamo.doc.send(new ScanCommand({ TableName: auditTableName, ConsistentRead: true }));
    const expected = (stored.Items ?? [])
      .map((item) => ({ sort: String(item.at), id: String(item.id) }))
      .filter((e) => e.sort.slice(0, 7) >= horizon && e.sort.slice(0, 7) <= new Date().toISOString().slice(0, 7))
      .sort((a, b) => (a.sort < b.sort ? 1 : -1))
      .map((e) => e.id);
    expect(expected.length).toBeGreaterThanOrEqual(10);

    const pages = await readPages<{ id: string; at: string }>('newsAuditLogConnection', 'id at', 23);
    expect(pages.nodes.map((e) => e.id)).toEqual(expected);
    expect(pages.sizes.slice(0, -1).every((n) => n === 23)).toBe(true);
    // Pages of one entry step over the entries of one millisecond and over the empty months alike.
    const small = await readPages<{ id: string }>('newsAuditLogConnection', 'id', 1, pages.cursors.at(-9));
    expect(small.nodes.map((e) => e.id)).toEqual(expected.slice(-8));
    expect(small.sizes).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('lists the blocked publications with who blocked them and why', async () => {
    const LIST = '{ blockedNewsSources { name blocked blockedAt blockedBy reason } }';
    expect((await asAdmin('mutation { blockNewsSource(name: " Test Wire ", reason: "copies others") { name blocked blockedBy reason } }')).data.blockNewsSource).toEqual({
      name: 'Test Wire',
      blocked: true,
      blockedBy: moderator.id,
      reason: 'copies others',
    });
    try {
      const listed = (await asAdmin(LIST)).data.blockedNewsSources;
      expect(listed).toEqual([{ name: 'Test Wire', blocked: true, blockedAt: expect.any(String), blockedBy: moderator.id, reason: 'copies others' }]);
    } finally {
      await asAdmin('mutation { unblockNewsSource(name: "Test Wire") { blocked } }');
    }
    expect((await asAdmin(LIST)).data.blockedNewsSources).toEqual([]);
  });

  it('puts the articles hidden before the list of hidden articles existed on it, once, at start', async () => {
    const id = expectedIds(() => true)[8]!;
    // Hidden as the service hid articles before: the article's item only.
    await dynamo.doc.send(
      new UpdateCommand({
        TableName: store.articlesTable,
        Key: { id, entry: 'ARTICLE' },
        UpdateExpression: 'SET #hidden = :true, hiddenAt = :at, hiddenBy = :by, hiddenReason = :reason',
        ExpressionAttributeNames: { '#hidden': 'hidden' },
        ExpressionAttributeValues: { ':true': true, ':at': '2026-01-02T03:04:05.006Z', ':by': moderator.id, ':reason': 'long ago' },
      }),
    );
    await dynamo.doc.send(new DeleteCommand({ TableName: store.articlesTable, Key: { id: '#moderation', entry: 'MIGRATION#hidden-list' } }));
    const LIST = '{ hiddenArticles { totalCount edges { node { articleId hiddenAt hiddenBy reason } } } }';
    expect((await asAdmin(LIST)).data.hiddenArticles.totalCount).toBe(0);
    try {
      const restarted = await startNewsService(envFor());
      await restarted.stop();
      expect((await asAdmin(LIST)).data.hiddenArticles).toEqual({
        totalCount: 1,
        edges: [{ node: { articleId: id, hiddenAt: '2026-01-02T03:04:05.006Z', hiddenBy: moderator.id, reason: 'long ago' } }],
      });
    } finally {
      await asAdmin('mutation($id: ID!) { restoreArticle(id: $id) { id } }', { id });
    }
    expect((await asAdmin(LIST)).data.hiddenArticles.totalCount).toBe(0);
  });

  it('puts the list of hidden articles right when a hide or a restore was cut short, on the next try', async () => {
    const id = expectedIds(() => true)[11]!;
    const LIST = '{ hiddenArticles { edges { node { articleId reason } } } }';
    const listed = async () => (await asAdmin(LIST)).data.hiddenArticles.edges.map((e: { node: { articleId: string; reason: string } }) => e.node);
    const setOnItem = (update: string, values?: Record<string, unknown>) =>
      dynamo.doc.send(
        new UpdateCommand({
          TableName: store.articlesTable,
          Key: { id, entry: 'ARTICLE' },
          UpdateExpression: update,
          ExpressionAttributeNames: { '#hidden': 'hidden' },
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    try {
      // A hide that stopped after the article's item: hiding again lists it.
      await setOnItem('SET #hidden = :true, hiddenAt = :at, hiddenBy = :by, hiddenReason = :reason', {
        ':true': true,
        ':at': new Date().toISOString(),
        ':by': moderator.id,
        ':reason': 'cut short',
      });
      expect(await listed()).toEqual([]);
      await asAdmin('mutation($id: ID!) { hideArticle(id: $id, reason: "again") { id } }', { id });
      expect(await listed()).toEqual([{ articleId: id, reason: 'cut short' }]);
      // A restore that stopped after the article's item: restoring again takes it off.
      await setOnItem('REMOVE #hidden, hiddenAt, hiddenBy, hiddenReason');
      await asAdmin('mutation($id: ID!) { restoreArticle(id: $id) { id } }', { id });
      expect(await listed()).toEqual([]);
    } finally {
      await asAdmin('mutation($id: ID!) { restoreArticle(id: $id) { id } }', { id });
    }
  });

  it('refuses a page size out of range and a cursor it did not give out, naming the argument', async () => {
    const lists = ['articleFlagsConnection', 'newsAuditLogConnection', 'hiddenArticles'];
    const page = (field: string, variables: Record<string, unknown>) =>
      asAdmin(`query($first: Int!, $after: String) { ${field}(first: $first, after: $after) { edges { cursor } pageInfo { endCursor } } }`, { first: 1, ...variables });
    // A cursor of each list, and one of the article lists.
    await asAdmin('mutation($id: ID!) { hideArticle(id: $id, reason: "cursor test") { id } }', { id: expectedIds(() => true)[9] });
    await as({ id: 'f1a90000-0000-4000-8000-000000000099' })('mutation($id: ID!) { flagArticle(id: $id, reason: "cursor test") }', { id: expectedIds(() => true)[10] });
    try {
      const cursors: Record<string, string> = {};
      for (const field of lists) {
        const result = await page(field, {});
        expect(result.errors, field).toBeUndefined();
        cursors[field] = result.data[field].pageInfo.endCursor;
        expect(cursors[field], field).toEqual(expect.any(String));
      }
      cursors.articles = (await asAlice(PAGE, { first: 1 })).data.articles.pageInfo.endCursor;
      const tampered = (list: string, sort: string) => Buffer.from(JSON.stringify({ f: list, s: sort })).toString('base64url');
      for (const field of lists) {
        for (const first of [0, 101])
          expect((await page(field, { first })).errors?.[0]?.extensions, `${field} first ${first}`).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
        const foreign = [
          'bm90IGEgY3Vyc29y',
          cursors.articles,
          ...lists.filter((other) => other !== field).map((other) => cursors[other]),
          tampered('FLAGS', 'x'),
          tampered('NEWS_AUDIT', '2026-13-45T00:00:00.000Z#not-a-uuid'),
          tampered('HIDDEN', 'SOURCE#Test Wire'),
        ];
        for (const after of foreign)
          expect((await page(field, { after })).errors?.[0]?.extensions, `${field} after ${after}`).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      }
    } finally {
      await asAdmin('mutation($id: ID!) { restoreArticle(id: $id) { id } }', { id: expectedIds(() => true)[9] });
      await asAdmin('mutation($id: ID!) { dismissArticleFlags(id: $id) }', { id: expectedIds(() => true)[10] });
    }
  });

  it('refuses every moderation list to anyone but an administrator', async () => {
    for (const query of [
      '{ articleFlagsConnection { totalCount edges { node { articleId } } } }',
      '{ newsAuditLogConnection { edges { node { id } } } }',
      '{ hiddenArticles { totalCount edges { node { articleId } } } }',
      '{ blockedNewsSources { name } }',
    ]) {
      const reader = await asAlice(query);
      expect(reader.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      expect(reader.data ?? null, query).toBeNull();
      expect((await gql(url, query)).errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
    }
  });
});
