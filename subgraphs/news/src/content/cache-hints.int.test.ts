import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createTestAuth, gatewaySignature, services, uniqueName, type TestAuth } from '@analytica/testing';
import { readArticleBundle } from '../articles/articles.js';
import { parseNewsEnv, startNewsService } from '../index.js';
import { PUBLIC_NEWS_MAX_AGE_SECONDS } from './cache-hints.js';

const run = uniqueName('news_hints');
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const reader = { id: 'a11ce000-0000-4000-8000-0000000000c1' };
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startNewsService>>;

beforeAll(async () => {
  auth = await createTestAuth();
  service = await startNewsService(
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
});

afterAll(async () => {
  await service?.stop();
  await deleteTablesWithPrefix(dynamo, `${run}_`);
  dynamo.close();
  await auth?.close();
});

/** The subgraph's answer and its Cache-Control header, called as the gateway calls it. */
async function ask(query: string, variables?: Record<string, unknown>) {
  const url = `${service.url}/graphql`;
  const body = JSON.stringify({ query, variables });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${auth.tokenFor(reader)}`, ...gatewaySignature(url, body) },
    body,
  });
  const json = (await response.json()) as { data?: unknown; errors?: unknown[] };
  return { cacheControl: response.headers.get('cache-control'), ...json };
}

const PUBLIC = `max-age=${PUBLIC_NEWS_MAX_AGE_SECONDS}, public`;

describe('cache hints of the news subgraph', () => {
  it('marks a page of articles and one article public for a short while', async () => {
    const page = await ask(
      '{ articles(first: 3) { edges { cursor node { id title sources publishedAt popularity contentPath imageUrl tickerSentiments { symbol score } } } pageInfo { hasNextPage endCursor } } }',
    );
    expect(page.errors).toBeUndefined();
    expect(page.cacheControl).toBe(PUBLIC);
    const id = (await readArticleBundle()).articles[0]!.id;
    const one = await ask('query($id: ID!) { article(id: $id) { id title body } }', { id });
    expect(one.errors).toBeUndefined();
    expect(one.cacheControl).toBe(PUBLIC);
  });

  it('never lets an answer with something about the caller be cached', async () => {
    const page = await ask('{ articles(first: 3) { edges { node { id likedByMe } } } }');
    expect(page.errors).toBeUndefined();
    expect(page.cacheControl).toBe('no-store');
    const saved = await ask('{ articles(first: 3) { edges { node { id savedByMe } } } }');
    expect(saved.cacheControl).toBe('no-store');
  });

  it('leaves entity lookups, errors and mutations no-store', async () => {
    const id = (await readArticleBundle()).articles[0]!.id;
    expect((await ask('query($r: [_Any!]!) { _entities(representations: $r) { ... on Article { id title } } }', { r: [{ __typename: 'Article', id }] })).cacheControl).toBe(
      'no-store',
    );
    const missing = await ask('{ article(id: "no-such-article") { id } }');
    expect(missing.errors).toBeDefined();
    expect(missing.cacheControl).toBe('no-store');
    expect((await ask('mutation($id: ID!) { recordArticleView(id: $id) { id } }', { id })).cacheControl).toBe('no-store');
  });
});
