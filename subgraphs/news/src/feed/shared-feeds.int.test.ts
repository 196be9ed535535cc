import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { eventually, services, uniqueName } from '@analytica/testing';
import { articlesTable } from '../articles/articles.js';
import { publishedArticle } from '../ingest/fixtures/published-article.js';
import { storePublishedArticle, type PublishedArticle } from '../ingest/published.js';
import { createSharedFeeds, uncachedFeeds } from './shared-feeds.js';

// The lists myFeed is made of, shared between readers: served from memory while fresh, read again
// in the background when older, straight from DynamoDB (dynalite) when off.

const tablePrefix = `${uniqueName('news_shared')}_`;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const store = { dynamo, articlesTable: `${tablePrefix}articles`, userArticlesTable: `${tablePrefix}user_articles` };

const publish = (id: string, minute: number, fields: Partial<PublishedArticle> = {}) => {
  const at = `2030-01-02T10:${String(minute).padStart(2, '0')}:00.000Z`;
  return storePublishedArticle(store, publishedArticle(id, { symbols: ['ZZSF'], publishedAt: at, updatedAt: at, ...fields }));
};

const ids = (articles: { id: string }[]) => articles.map((a) => a.id);

beforeAll(async () => {
  await dynamo.ensureTable(articlesTable(store.articlesTable));
  await publish('sf-1', 1);
});
afterAll(async () => {
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
});

describe('shared feeds', () => {
  it('serve a list from memory while it is fresh, then read it again in the background', async () => {
    const feeds = createSharedFeeds(store, { freshMs: 300 });
    expect(ids(await feeds.newest('SYMBOL#ZZSF', 10))).toEqual(['sf-1']);
    await publish('sf-2', 2);
    // Fresh: every reader gets the list as read, without a read of their own.
    expect(ids(await feeds.newest('SYMBOL#ZZSF', 10))).toEqual(['sf-1']);
    expect(ids(await uncachedFeeds(store).newest('SYMBOL#ZZSF', 10))).toEqual(['sf-2', 'sf-1']);
    // Older than freshMs: the held list is served once more while the new one is read.
    await new Promise((resolve) => setTimeout(resolve, 350));
    await eventually(async () => (ids(await feeds.newest('SYMBOL#ZZSF', 10)).join() === 'sf-2,sf-1' ? true : undefined), 5000);
  });

  it('read straight from the store when turned off (freshMs 0)', async () => {
    const feeds = createSharedFeeds(store, { freshMs: 0 });
    const before = ids(await feeds.newest('SYMBOL#ZZSF', 10));
    await publish('sf-3', 3);
    expect(ids(await feeds.newest('SYMBOL#ZZSF', 10))).toEqual(['sf-3', ...before]);
  });

  it("give articles' topics and symbols by id, leaving out ids that are not there", async () => {
    await publish('sf-4', 4, { topics: ['crypto'], symbols: ['ZZSF', 'ZZSG'] });
    const feeds = createSharedFeeds(store, { freshMs: 2000 });
    const facets = await feeds.facets(['sf-4', 'no-such-article', 'sf-1']);
    expect([...facets]).toEqual([
      ['sf-4', { topics: ['crypto'], symbols: ['ZZSF', 'ZZSG'] }],
      ['sf-1', { topics: ['markets'], symbols: ['ZZSF'] }],
    ]);
  });
});
