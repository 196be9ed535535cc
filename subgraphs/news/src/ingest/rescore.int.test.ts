import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, GetCommand, ScanCommand } from '@analytica/dynamo';
import { readReferenceFile, type Instrument } from '@analytica/instruments';
import { services, uniqueName } from '@analytica/testing';
import { articlesTable, ingestArticleBundle, readArticleBundle } from '../articles/articles.js';
import { createEnricher, loadSentimentModel, type SentimentArtefact } from '../enrich/index.js';
import bundledArtefact from '../../data/sentiment-model.json' with { type: 'json' };
import { rescoreArticles } from './rescore.js';
import { storePublishedArticle } from './published.js';

const tablePrefix = `${uniqueName('news_rescore')}_`;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const store = { dynamo, articlesTable: `${tablePrefix}articles`, userArticlesTable: `${tablePrefix}user_articles` };
let instruments: Instrument[];

/** The bundled model with every weight's sign turned round: another version, other scores. */
const reversed = (version: string) => {
  const artefact = bundledArtefact as SentimentArtefact;
  return loadSentimentModel({
    ...artefact,
    version,
    intercept: artefact.intercept.map((w) => -w),
    weights: Object.fromEntries(Object.entries(artefact.weights).map(([t, w]) => [t, w.map((x) => -x)])),
  });
};

const articleItems = async () => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.doc.send(new ScanCommand({ TableName: store.articlesTable, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []).filter((i) => i.entry === 'ARTICLE'));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
};

beforeAll(async () => {
  instruments = (await readReferenceFile()).instruments;
  await dynamo.ensureTable(articlesTable(store.articlesTable));
  await ingestArticleBundle(store, await readArticleBundle(), createEnricher(instruments));
});
afterAll(async () => {
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
});

describe('re-scoring after a model change', () => {
  it('moves every article to the new version in batches, resumes from its checkpoint, and does nothing the second time', async () => {
    const before = await articleItems();
    const first = loadSentimentModel().version;
    expect(before.length).toBe(42);
    expect(new Set(before.map((i) => i.sentimentModel))).toEqual(new Set([first]));

    let model = reversed('reversed-v2');
    const next = createEnricher(instruments, () => model);
    // Cut short after two batches of 20 scanned items (articles and their feed rows), as a restart would.
    const cut = await rescoreArticles(store, next, { batchSize: 20, maxBatches: 2 });
    expect(cut).toMatchObject({ version: 'reversed-v2', done: false });
    expect(cut.rescored).toBeGreaterThan(0);
    expect(cut.rescored).toBeLessThan(42);
    const checkpoint = (await dynamo.doc.send(new GetCommand({ TableName: store.articlesTable, Key: { id: '#rescore', entry: 'STATE' }, ConsistentRead: true }))).Item;
    expect(checkpoint).toMatchObject({ version: 'reversed-v2', done: false });
    expect(checkpoint?.lastKey).toBeDefined();
    const halfway = await articleItems();
    expect(halfway.filter((i) => i.sentimentModel === 'reversed-v2').length).toBe(cut.rescored);

    // The next run starts at the checkpoint: it reads only what the first did not.
    const rest = await rescoreArticles(store, next, { batchSize: 20 });
    expect(rest).toMatchObject({ version: 'reversed-v2', done: true });
    expect(rest.rescored).toBe(42 - cut.rescored);
    expect(rest.scanned).toBe(42 - cut.scanned);

    const after = await articleItems();
    for (const item of after) {
      const expected = next.rescore({ title: String(item.title), summary: String(item.summary), body: String(item.body) }, item.symbols as string[]);
      expect(item).toMatchObject({
        sentimentModel: 'reversed-v2',
        sentiment: expected.sentiment,
        tickerSentiments: expected.tickerSentiments.map((t) => ({ ...t, modelVersion: 'reversed-v2' })),
      });
    }
    const apple = after.find((i) => i.id === 'apple-services-revenue-record')!;
    expect(apple.sentiment as number).toBeLessThan(-0.5); // 0.95 with the first model

    // Idempotent: a finished version is not scanned again.
    expect(await rescoreArticles(store, next)).toEqual({ version: 'reversed-v2', scanned: 0, rescored: 0, done: true });

    // A model change restarts from the top (rolling back is a change too).
    model = loadSentimentModel();
    const back = await rescoreArticles(store, next, { batchSize: 50 });
    expect(back).toMatchObject({ version: first, rescored: 42, done: true });
  });

  it('scores an event of another model version again with the active model when it stores it', async () => {
    const active = createEnricher(instruments, () => reversed('reversed-v3'));
    const text = { title: 'Apple shares soar after record iPhone sales', summary: 'Apple raises its full-year outlook.', body: 'Apple raises its dividend.' };
    await storePublishedArticle(
      store,
      {
        articleId: 'late-event',
        revision: 1,
        canonicalUrl: 'https://example.com/late-event',
        url: 'https://example.com/late-event',
        ...text,
        sources: ['Test Wire'],
        topics: ['markets'],
        symbols: ['AAPL'],
        publishedAt: '2030-01-02T10:00:00.000Z',
        updatedAt: '2030-01-02T10:00:00.000Z',
        contentHash: createHash('sha256').update('late-event').digest('hex'),
        sentiment: 0.9,
        sentimentModel: 'some-older-version',
        tickerSentiments: [{ symbol: 'AAPL', score: 0.9 }],
      },
      active,
    );
    const item = (await dynamo.doc.send(new GetCommand({ TableName: store.articlesTable, Key: { id: 'late-event', entry: 'ARTICLE' }, ConsistentRead: true }))).Item!;
    const expected = active.rescore(text, ['AAPL']);
    expect(item).toMatchObject({
      sentimentModel: 'reversed-v3',
      sentiment: expected.sentiment,
      tickerSentiments: [{ symbol: 'AAPL', score: expected.tickerSentiments[0]!.score, modelVersion: 'reversed-v3' }],
    });
  });
});
