import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer } from '@analytica/auth';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { AUDIENCE, createTestAuth, gql, ISSUER, services, uniqueName, type TestAuth } from '@analytica/testing';
import { ingestArticleBundle, readArticleBundle, type ArticleBundle } from './articles/articles.js';
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

const envFor = () => parseNewsEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: tablePrefix });

beforeAll(async () => {
  auth = await createTestAuth();
  bundle = await readArticleBundle();
  service = await startNewsService(envFor());
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
  await auth?.close();
});

const as = (user: { id: string }) => (query: string, variables?: Record<string, unknown>) => gql(url, query, { token: auth.tokenFor(user), variables });
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

    const admin = as({ id: 'ad000000-0000-4000-8000-000000000004', role: 'ADMIN' } as { id: string });
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
