import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createTestAuth, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { readReferenceFile } from '@analytica/instruments';
import { enrichBundledArticle, readArticleBundle } from '../articles/articles.js';
import { createEnricher, loadSentimentModel } from '../enrich/index.js';
import { parseNewsEnv, startNewsService } from '../index.js';
import { publishedArticle } from './fixtures/published-article.js';
import { storePublishedArticle } from './published.js';

const tablePrefix = `${uniqueName('news_tsent')}_`;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const store = { dynamo, articlesTable: `${tablePrefix}articles`, userArticlesTable: `${tablePrefix}user_articles` };
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startNewsService>>;

beforeAll(async () => {
  auth = await createTestAuth();
  service = await startNewsService(parseNewsEnv({ PORT: '0', LOG_LEVEL: 'silent', ...auth.env, DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: tablePrefix }));
  // The catch-up at start re-scores every article not scored by the active model: the articles
  // below, scored by test versions, would be re-scored if they were stored while it still scans.
  await service.rescoringIdle();
});

afterAll(async () => {
  await service?.stop();
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
  await auth?.close();
});

// Published after every bundled article, so that `since` keeps the bundle out of these lists.
const SINCE = '2030-01-01T00:00:00.000Z';

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
      publishedArticle('mixed-phones', {
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
    await storePublishedArticle(store, publishedArticle('older-event', { symbols: ['AAPL'], sentiment: 0.6, sentimentModel: 'v-test-0', publishedAt: '2030-01-02T09:00:00.000Z' }));

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

    // The headline's score alone would keep the mixed story out of an AAPL list above 0.5 and in a Samsung list above 0.
    expect(await idsFor('symbols: ["AAPL"], minSentiment: 0.5')).toEqual(['mixed-phones', 'older-event']);
    expect(await idsFor('symbols: ["AAPL"], minSentiment: 0.7')).toEqual(['mixed-phones']);
    expect(await idsFor('symbols: ["005930.KS"], minSentiment: 0')).toEqual([]);
    expect(await idsFor('symbols: ["005930.KS"], minSentiment: -0.75')).toEqual(['mixed-phones']);
    // Any of the symbols asked reaching it is enough.
    expect(await idsFor('symbols: ["005930.KS", "AAPL"], minSentiment: 0.7')).toEqual(['mixed-phones']);
    // Without symbols, the article's own score.
    expect(await idsFor('minSentiment: 0.5')).toEqual(['older-event']);
    expect(await idsFor('symbols: ["AAPL"]')).toEqual(['mixed-phones', 'older-event']);
  });
});

describe('the bundled articles', () => {
  it('are enriched at seeding with the enrichment news-ingest uses: tickers and topics found in the text, sentiment and sentiment per ticker', async () => {
    const bundle = await readArticleBundle();
    const enricher = createEnricher((await readReferenceFile()).instruments);
    const version = loadSentimentModel().version;
    const NODE = '{ id symbols topics sentiment sentimentModel tickerSentiments { symbol score modelVersion } }';
    for (const given of bundle.articles) {
      const expected = enrichBundledArticle(given, enricher);
      const result = await query(`{ article(id: "${given.id}") ${NODE} }`);
      expect(result.errors).toBeUndefined();
      expect(result.data.article).toEqual({
        id: given.id,
        symbols: expected.symbols,
        topics: expected.topics,
        sentiment: expected.sentiment,
        sentimentModel: version,
        tickerSentiments: expected.symbols.map((symbol) => ({ symbol, score: expected.tickerSentiments.find((t) => t.symbol === symbol)!.score, modelVersion: version })),
      });
      // The bundle's own lists are kept; enrichment only adds.
      expect(expected.symbols).toEqual(expect.arrayContaining(given.symbols));
      expect(expected.topics).toEqual(expect.arrayContaining(given.topics));
    }
    // Bitcoin named in the text only: now listed under its symbol, with a score of its own.
    const bitcoin = bundle.articles.find((a) => a.id.startsWith('bitcoin-swings'))!;
    expect(bitcoin.symbols).not.toContain('BTC-USD');
    const btc = await query(`{ articles(filter: { symbols: ["BTC-USD"] }, first: 50) { edges { node { id tickerSentiments { symbol score } } } } }`);
    expect(btc.data.articles.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(bitcoin.id);
    // Scored, so minSentiment no longer leaves every bundled article out.
    const upbeat = await query(`{ articles(filter: { minSentiment: 0.9 }, first: 50) { edges { node { id sentiment } } } }`);
    const ids = upbeat.data.articles.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(ids).toContain('apple-services-revenue-record');
    for (const e of upbeat.data.articles.edges as { node: { sentiment: number } }[]) expect(e.node.sentiment).toBeGreaterThanOrEqual(0.9);
  });
});
