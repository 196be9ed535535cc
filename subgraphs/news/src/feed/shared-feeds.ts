import DataLoader from 'dataloader';
import { collectArticles, getArticles, type ArticleRecord, type ArticleStore } from '../articles/articles.js';
import { createRefreshingCache } from '../refreshing-cache.js';

/**
 * What every reader's feed is made of, shared between readers: the newest articles of a list
 * (`ALL`, `SYMBOL#AAPL`, `TOPIC#markets`) and the topics and symbols of the articles a reader
 * liked, saved and read (their affinities). Without it each `myFeed` read its lists and a few
 * hundred articles from DynamoDB (about 15 calls); with it, the lists come from memory and only
 * the reader's own items and the page shown are read.
 *
 * Freshness: a list is at most `freshMs` old when served as it is, and between `freshMs` and
 * 5 x `freshMs` it is served while read again in the background, so a new article reaches `myFeed`
 * within a few seconds. What must not wait, does not: the articles of the page shown are read
 * again per request (myFeedPage), so a hidden article leaves at once and counts are current.
 */
export interface SharedFeeds {
  /** The newest `want` visible articles of a list, newest first (may be a few seconds old). */
  newest(feed: string, want: number): Promise<ArticleRecord[]>;
  /** Topics and symbols of these articles, by id (missing ones left out). */
  facets(ids: readonly string[]): Promise<Map<string, ArticleFacets>>;
}

export type ArticleFacets = Pick<ArticleRecord, 'topics' | 'symbols'>;

/** Straight from the store, every time: `NEWS_FEED_CACHE_MS=0`, and the offline evaluation. */
export function uncachedFeeds(store: ArticleStore): SharedFeeds {
  return {
    newest: async (feed, want) => (await collectArticles(store, { feeds: [feed], want })).found.map((f) => f.article),
    facets: async (ids) => facetsById(await getArticles(store, ids)),
  };
}

export function createSharedFeeds(store: ArticleStore, options: { freshMs: number }): SharedFeeds {
  if (options.freshMs <= 0) return uncachedFeeds(store);
  const direct = uncachedFeeds(store);
  const lists = createRefreshingCache<ArticleRecord[]>({ freshMs: options.freshMs, maxAgeMs: 5 * options.freshMs, maxEntries: 2000 });
  // An article's topics and symbols change only when its story is revised: a minute is plenty fresh.
  const facets = createRefreshingCache<ArticleFacets | null>({ freshMs: 60_000, maxAgeMs: 300_000, maxEntries: 50_000 });
  return {
    newest: (feed, want) => lists.get(`${feed}|${want}`, () => direct.newest(feed, want)),
    async facets(ids) {
      // The misses of one call are one BatchGetItem (per 100), not one read each.
      const batch = new DataLoader<string, ArticleFacets | null>(
        async (missing) => (await getArticles(store, missing)).map((a) => (a ? { topics: a.topics, symbols: a.symbols } : null)),
        { maxBatchSize: 100 },
      );
      const found = await Promise.all(ids.map((id) => facets.get(id, () => batch.load(id))));
      return new Map(found.flatMap((f, n) => (f ? [[ids[n]!, f] as const] : [])));
    },
  };
}

function facetsById(articles: (ArticleRecord | null)[]): Map<string, ArticleFacets> {
  return new Map(articles.flatMap((a) => (a ? [[a.id, { topics: a.topics, symbols: a.symbols }] as const] : [])));
}
