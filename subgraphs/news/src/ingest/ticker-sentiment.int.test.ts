import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createTestAuth, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseNewsEnv, startNewsService } from '../index.js';
import { storePublishedArticle, type PublishedArticle } from './published.js';

const tablePrefix = `${uniqueName('news_tsent')}_`;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const store = { dynamo, articlesTable: `${tablePrefix}articles`, userArticlesTable: `${tablePrefix}user_articles` };
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startNewsService>>;

beforeAll(async () => {
  auth = await createTestAuth();
  service = await startNewsService(parseNewsEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: tablePrefix }));
});

afterAll(async () => {
  await service?.stop();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
  await auth?.close();
});

// Published after every bundled article, so that `since` keeps the bundle out of these lists.
const SINCE = '2030-01-01T00:00:00.000Z';
const published = (id: string, fields: Partial<PublishedArticle>): PublishedArticle => ({
  articleId: id,
  revision: 1,
  canonicalUrl: `https://example.com/${id}`,
  url: `https://example.com/${id}`,
  title: `Headline ${id}`,
  summary: 'Summary.',
  body: 'Body.',
  sources: ['Test Wire'],
  topics: ['markets'],
  symbols: [],
  publishedAt: '2030-01-02T10:00:00.000Z',
  updatedAt: '2030-01-02T10:00:00.000Z',
  contentHash: createHash('sha256').update(id).digest('hex'),
  ...fields,
});

const query = (text: string) => gql(`${service.url}/graphql`, text, { token: auth.tokenFor({ id: 'a11ce000-0000-4000-8000-000000000001' }) });
const idsFor = async (filter: string) => {
  const result = await query(`{ articles(filter: { since: "${SINCE}", ${filter} }, first: 50) { edges { node { id } } } }`);
  expect(result.errors).toBeUndefined();
  return (result.data.articles.edges as { node: { id: string } }[]).map((e) => e.node.id).sort();
};

describe('sentiment per ticker', () => {
  it('stores a score per symbol with its model version, and minSentiment with symbols reads the score for those symbols', async () => {
    // A mixed story: neutral headline, good for Apple, bad for Samsung.
    await storePublishedArticle(
      store,
      published('mixed-phones', {
        symbols: ['AAPL', '005930.KS'],
        sentiment: 0.05,
        sentimentModel: 'v-test-1',
        tickerSentiments: [
          { symbol: 'AAPL', score: 0.8 },
          { symbol: '005930.KS', score: -0.7 },
        ],
      }),
    );
    // An event from before per-ticker scores: its symbols take the article's score.
    await storePublishedArticle(store, published('older-event', { symbols: ['AAPL'], sentiment: 0.6, sentimentModel: 'v-test-0', publishedAt: '2030-01-02T09:00:00.000Z' }));
    // Never scored.
    await storePublishedArticle(store, published('unscored', { symbols: ['AAPL', '005930.KS'], publishedAt: '2030-01-02T08:00:00.000Z' }));

    const result = await query(`{ article(id: "mixed-phones") { sentiment sentimentModel tickerSentiments { symbol score modelVersion } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.article).toEqual({
      sentiment: 0.05,
      sentimentModel: 'v-test-1',
      tickerSentiments: [
        { symbol: 'AAPL', score: 0.8, modelVersion: 'v-test-1' },
        { symbol: '005930.KS', score: -0.7, modelVersion: 'v-test-1' },
      ],
    });
    const older = await query(`{ article(id: "older-event") { tickerSentiments { symbol score modelVersion } } }`);
    expect(older.data.article.tickerSentiments).toEqual([{ symbol: 'AAPL', score: 0.6, modelVersion: 'v-test-0' }]);
    const unscored = await query(`{ article(id: "unscored") { sentiment tickerSentiments { symbol } } }`);
    expect(unscored.data.article).toEqual({ sentiment: null, tickerSentiments: [] });

    // The headline's score alone would keep the mixed story out of an AAPL list above 0.5 and in a Samsung list above 0.
    expect(await idsFor('symbols: ["AAPL"], minSentiment: 0.5')).toEqual(['mixed-phones', 'older-event']);
    expect(await idsFor('symbols: ["AAPL"], minSentiment: 0.7')).toEqual(['mixed-phones']);
    expect(await idsFor('symbols: ["005930.KS"], minSentiment: 0')).toEqual([]);
    expect(await idsFor('symbols: ["005930.KS"], minSentiment: -0.75')).toEqual(['mixed-phones']);
    // Any of the symbols asked reaching it is enough.
    expect(await idsFor('symbols: ["005930.KS", "AAPL"], minSentiment: 0.7')).toEqual(['mixed-phones']);
    // Without symbols, the article's own score.
    expect(await idsFor('minSentiment: 0.5')).toEqual(['older-event']);
    expect(await idsFor('symbols: ["AAPL"]')).toEqual(['mixed-phones', 'older-event', 'unscored']);
  });
});
