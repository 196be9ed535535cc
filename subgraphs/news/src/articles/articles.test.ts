import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, feedFor, feedsOf, readArticleBundle } from './articles.js';

const bundle = await readArticleBundle();

describe('the bundled articles', () => {
  it('hold about forty articles with unique ids, example.com links and known topics', () => {
    expect(bundle.articles.length).toBeGreaterThanOrEqual(35);
    expect(new Set(bundle.articles.map((a) => a.id)).size).toBe(bundle.articles.length);
    const topics = new Set(bundle.articles.flatMap((a) => a.topics));
    expect(topics).toEqual(new Set(['markets', 'economy', 'earnings', 'crypto', 'personal-finance']));
    for (const article of bundle.articles) {
      expect(new URL(article.url).hostname).toMatch(/(^|\.)example\.com$/);
      expect(article.body.split('. ').length).toBeGreaterThanOrEqual(3);
    }
  });

  it('are spread over several recent weeks', () => {
    const times = bundle.articles.map((a) => Date.parse(a.publishedAt));
    const spanDays = (Math.max(...times) - Math.min(...times)) / 86_400_000;
    expect(spanDays).toBeGreaterThanOrEqual(21);
  });
});

describe('feeds', () => {
  it('lists an article under all articles, each of its topics and each symbol it mentions', () => {
    expect(feedsOf({ topics: ['markets', 'earnings'], symbols: ['AAPL'] })).toEqual(['ALL', 'TOPIC#markets', 'TOPIC#earnings', 'SYMBOL#AAPL']);
  });

  it('answers a symbol and topic request from the symbol feed, filtered by topic', () => {
    expect(feedFor({ symbol: 'NVDA', topic: 'earnings' })).toEqual({ feed: 'SYMBOL#NVDA', topicFilter: 'earnings' });
    expect(feedFor({ topic: 'crypto' })).toEqual({ feed: 'TOPIC#crypto' });
    expect(feedFor({})).toEqual({ feed: 'ALL' });
  });

  it('reads back its own cursor and refuses a foreign or forged one, naming after', () => {
    const cursor = encodeCursor({ feed: 'TOPIC#crypto', sort: '2026-11-23T14:00:00Z#x' });
    expect(decodeCursor(cursor, 'TOPIC#crypto')).toEqual({ feed: 'TOPIC#crypto', sort: '2026-11-23T14:00:00Z#x' });
    for (const [text, feed] of [
      [cursor, 'TOPIC#markets'],
      ['not-a-cursor', 'ALL'],
      [Buffer.from('{"f":1}').toString('base64url'), 'ALL'],
    ] as const) {
      try {
        decodeCursor(text, feed);
        throw new Error('expected a refusal');
      } catch (error) {
        expect((error as { extensions: Record<string, unknown> }).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      }
    }
  });
});
