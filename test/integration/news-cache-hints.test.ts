/**
 * GraphQL cache hints through the real gateway (issue 14): the news subgraph's hints become the
 * gateway's `Cache-Control`, combined over every subgraph an operation fetched (gateway/src/cache-hints.ts).
 * The news service runs for real (dynalite); a stand-in user subgraph answers `me` without hints,
 * as the real one does. Here, not in gateway/src or subgraphs/news, because it starts both.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createTokenVerifier, requireUser, type AuthUser } from '@analytica/auth';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { parseGatewayEnv, startGateway } from '@analytica/gateway';
import { parseNewsEnv, startNewsService } from '@analytica/news-subgraph';
import { compose } from '@analytica/schema';
import { createTestAuth, gql, services, uniqueName, type TestAuth } from '@analytica/testing';

const run = uniqueName('news_cache');
const reader = { id: 'a11ce000-0000-4000-8000-0000000000c3' };
const USER_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { me: User }
type User @key(fields: "id") { id: ID! displayName: String! watchlist: [Instrument!] }
type Instrument @key(fields: "symbol") { symbol: String! }`;

const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
let auth: TestAuth;
let dir: string;
let news: Awaited<ReturnType<typeof startNewsService>>;
let users: ApolloServer<{ user: AuthUser | null }>;
let verifier: ReturnType<typeof createTokenVerifier>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let cdnGateway: Awaited<ReturnType<typeof startGateway>>;
let cdnGatewayUrl: string;
let gatewayUrl: string;
let token: string;

beforeAll(async () => {
  auth = await createTestAuth();
  dir = await mkdtemp(path.join(os.tmpdir(), 'news-cache-'));
  news = await startNewsService(
    parseNewsEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...auth.env,
      DYNAMODB_ENDPOINT: services.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: `${run}_`,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${run}.`,
    }),
  );
  verifier = createTokenVerifier({ jwksUrl: auth.env.JWKS_URL, issuer: auth.env.JWT_ISSUER, audience: auth.env.JWT_AUDIENCE });
  users = new ApolloServer<{ user: AuthUser | null }>({
    schema: buildSubgraphSchema([
      {
        typeDefs: parse(USER_SDL),
        resolvers: {
          Query: { me: (_: unknown, __: unknown, ctx: { user: AuthUser | null }) => ({ id: requireUser(ctx).id }) },
          User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }), displayName: () => 'Reader', watchlist: () => [] },
        },
      },
    ]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url: userUrl } = await startStandaloneServer(users, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ user: req.headers.authorization ? await verifier.verify(req.headers.authorization.replace(/^Bearer /, '')) : null }),
  });
  // The news service's own SDL, as the registry would take it.
  const newsSdl = (await gql(`${news.url}/graphql`, '{ _service { sdl } }', { token: auth.tokenFor({ id: 'a11ce000-0000-4000-8000-0000000000c2' }) })).data._service.sdl as string;
  const composed = compose([
    { name: 'user', url: userUrl, sdl: USER_SDL },
    { name: 'news', url: `${news.url}/graphql`, sdl: newsSdl },
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  const start = (extra: Record<string, string> = {}) =>
    startGateway(
      parseGatewayEnv({
        PORT: '0',
        LOG_LEVEL: 'silent',
        SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
        SUPERGRAPH_WATCH: 'false',
        REDIS_KEY_PREFIX: `${run}:`,
        RATE_LIMIT_USER_PER_MINUTE: '1000000',
        RATE_LIMIT_IP_PER_MINUTE: '1000000',
        ...auth.env,
        ...extra,
      }),
    );
  // As shipped, and behind a CDN that checks every token at the edge (CDN_VERIFIES_TOKENS).
  [gateway, cdnGateway] = await Promise.all([start(), start({ CDN_VERIFIES_TOKENS: 'true' })]);
  gatewayUrl = `${gateway.url}/graphql`;
  cdnGatewayUrl = `${cdnGateway.url}/graphql`;
  token = auth.tokenFor(reader);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await cdnGateway?.stop();
  await users?.stop();
  await news?.stop();
  await verifier?.close();
  await auth?.close();
  await deleteTablesWithPrefix(dynamo, `${run}_`);
  dynamo.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** POSTs through the gateway as a client does (the JSON indented by `indent`); the answer with its Cache-Control. */
async function ask(query: string, variables?: Record<string, unknown>, indent = 0, url = gatewayUrl) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }, null, indent),
  });
  const json = (await response.json()) as { data?: any; errors?: unknown[] };
  return { status: response.status, cacheControl: response.headers.get('cache-control'), ...json };
}

const ARTICLES = '{ articles(first: 5) { edges { cursor node { id title sources publishedAt contentPath } } pageInfo { hasNextPage endCursor } } }';

describe('Cache-Control through the gateway', () => {
  it('lets a CDN that checks tokens keep a public articles query for 30 s', async () => {
    const answer = await ask(ARTICLES, undefined, 0, cdnGatewayUrl);
    expect(answer.errors).toBeUndefined();
    expect(answer.data.articles.edges).toHaveLength(5);
    expect(answer.cacheControl).toBe('max-age=30, public');
  });

  it('as shipped, lets only the caller keep it: a CDN that does not check tokens must not share it with anyone', async () => {
    const answer = await ask(ARTICLES);
    expect(answer.errors).toBeUndefined();
    expect(answer.data.articles.edges).toHaveLength(5);
    expect(answer.cacheControl).toBe('max-age=30, private');
  });

  it('gives every one of identical concurrent requests (answered by one execution) the same public header', async () => {
    // The same operation in differently written JSON: not one HTTP answer replayed, but one execution shared (share-queries.ts).
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(ARTICLES, undefined, i, cdnGatewayUrl)));
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.cacheControl).toBe('max-age=30, public');
    }
  });

  it('keeps an operation with a me field, or with a field about the caller, out of every cache', async () => {
    const withMe = await ask(`{ me { id displayName } ${ARTICLES.slice(1, -1)} }`);
    expect(withMe.errors).toBeUndefined();
    expect(withMe.data.me.displayName).toBe('Reader');
    expect(withMe.cacheControl).toBe('no-store');
    const feed = await ask('{ me { myFeed(first: 3) { edges { node { id } } } } }');
    expect(feed.errors).toBeUndefined();
    expect(feed.cacheControl).toBe('no-store');
    const liked = await ask('{ articles(first: 3) { edges { node { id likedByMe } } } }');
    expect(liked.errors).toBeUndefined();
    expect(liked.cacheControl).toBe('no-store');
  });

  it('never caches an error or a mutation', async () => {
    const missing = await ask('{ article(id: "no-such-article") { id title } }');
    expect(missing.errors).toBeDefined();
    expect(missing.cacheControl).toBe('no-store');
    const [first] = (await ask(ARTICLES)).data.articles.edges;
    const viewed = await ask('mutation($id: ID!) { recordArticleView(id: $id) { id title } }', { id: first.node.id });
    expect(viewed.errors).toBeUndefined();
    expect(viewed.cacheControl).toBe('no-store');
  });
});
