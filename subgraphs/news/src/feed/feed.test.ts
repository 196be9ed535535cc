import { describe, expect, it } from 'vitest';
import type { ArticleRecord } from '../articles/articles.js';
import { rankedPage } from './feed.js';

const article = (id: string, fields: Partial<ArticleRecord> = {}): ArticleRecord => ({
  id,
  title: id,
  summary: '',
  body: '',
  source: 'Wire',
  url: `https://example.com/${id}`,
  topics: [],
  symbols: [],
  publishedAt: new Date('2030-01-01T00:00:00Z'),
  publishedAtText: '2030-01-01T00:00:00.000Z',
  likeCount: 0,
  sources: ['Wire'],
  hidden: false,
  viewCount: 0,
  saveCount: 0,
  sentiment: null,
  sentimentModel: null,
  tickerSentiments: [],
  ...fields,
});

describe('a page of the ranked feed', () => {
  const ranked = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => article(id));

  it('shows the articles as read again, leaving out one hidden or withdrawn since, and fills the page from further down', async () => {
    const now = new Map<string, ArticleRecord | null>(ranked.map((a) => [a.id, { ...a, likeCount: 7 }]));
    now.set('b', { ...ranked[1]!, hidden: true });
    now.set('c', null);
    const reads: string[][] = [];
    const page = await rankedPage(
      ranked,
      0,
      3,
      async (ids) => (reads.push(ids), ids.map((id) => now.get(id)!)),
      () => true,
    );
    expect(page.shown.map((s) => [s.article.id, s.position, s.article.likeCount])).toEqual([
      ['a', 1, 7],
      ['d', 4, 7],
      ['e', 5, 7],
    ]);
    expect(page.hasMore).toBe(true);
    expect(reads).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('starts after the position of a cursor, leaves out what the caller may not see, and says when the list ran out', async () => {
    const page = await rankedPage(
      ranked,
      4,
      3,
      async (ids) => ids.map((id) => ranked.find((a) => a.id === id)!),
      (a) => a.id !== 'e',
    );
    expect(page.shown.map((s) => [s.article.id, s.position])).toEqual([['f', 6]]);
    expect(page.hasMore).toBe(false);
  });
});
