import { QueryCommand, PutCommand, DeleteCommand } from '@analytica/dynamo';
import { popularityOf, type ArticleRecord, type ArticleStore } from '../articles/articles.js';
import type { SharedFeeds } from './shared-feeds.js';

export type ArticleSort = 'RECENT' | 'POPULAR' | 'RELEVANT';

/** Popular and relevant orders rank this many of the newest matching articles. */
export const RANK_WINDOW = 300;
const HOUR = 3_600_000;

/** Popularity with age: interactions count less as the article gets older (half a point per day of age, roughly). */
export function popularScore(article: ArticleRecord, now: number): number {
  const ageHours = Math.max(0, (now - article.publishedAt.getTime()) / HOUR);
  return Math.log1p(popularityOf(article)) - ageHours / 48;
}

export interface Profile {
  /** Symbols on the caller's watchlist (from the market subgraph, through @requires). */
  watchlist: Set<string>;
  followedTopics: Set<string>;
  followedSymbols: Set<string>;
  /** Topic and symbol weights from what the caller liked, saved and read (each 0..1). */
  topicAffinity: Map<string, number>;
  symbolAffinity: Map<string, number>;
  /** Articles the caller already read. */
  read: Set<string>;
}

/**
 * The personal ranker: what the caller watches and follows first, then what resembles what they
 * liked and read, with recency and popularity; articles already read sink. Weights were set on the
 * offline evaluation's training days (docs/news.md).
 */
export function relevanceScore(article: ArticleRecord, profile: Profile, now: number): number {
  const ageHours = Math.max(0, (now - article.publishedAt.getTime()) / HOUR);
  const any = (values: string[], set: Set<string>) => (values.some((v) => set.has(v)) ? 1 : 0);
  const best = (values: string[], map: Map<string, number>) => values.reduce((max, v) => Math.max(max, map.get(v) ?? 0), 0);
  return (
    3 * any(article.symbols, profile.watchlist) +
    2 * any(article.symbols, profile.followedSymbols) +
    2 * any(article.topics, profile.followedTopics) +
    1.5 * best(article.topics, profile.topicAffinity) +
    1.5 * best(article.symbols, profile.symbolAffinity) +
    0.4 * Math.log1p(popularityOf(article)) +
    2 * Math.exp(-ageHours / 24) -
    2 * (profile.read.has(article.id) ? 1 : 0)
  );
}

export function rank(articles: ArticleRecord[], sort: ArticleSort, profile: Profile | undefined, now = Date.now()): ArticleRecord[] {
  if (sort === 'RECENT') return articles;
  const score = sort === 'POPULAR' || !profile ? (a: ArticleRecord) => popularScore(a, now) : (a: ArticleRecord) => relevanceScore(a, profile, now);
  return articles
    .map((article) => ({ article, score: score(article) }))
    .sort((a, b) => b.score - a.score || b.article.publishedAt.getTime() - a.article.publishedAt.getTime())
    .map((e) => e.article);
}

// ---- what the caller follows and did: items of user_articles beside SAVED# and LIKED# ----

const followKey = (kind: 'TOPIC' | 'SYMBOL', value: string) => `FOLLOW#${kind}#${value}`;
const readKey = (articleId: string) => `READ#${articleId}`;

export interface Preferences {
  topics: string[];
  symbols: string[];
}

export async function readPreferences(store: ArticleStore, userId: string): Promise<Preferences> {
  const items = await itemsWithPrefix(store, userId, 'FOLLOW#', 200);
  const of = (kind: string) =>
    items
      .map((i) => String(i.sk))
      .filter((sk) => sk.startsWith(`FOLLOW#${kind}#`))
      .map((sk) => sk.slice(`FOLLOW#${kind}#`.length))
      .sort();
  return { topics: of('TOPIC'), symbols: of('SYMBOL') };
}

export async function setFollow(store: ArticleStore, userId: string, kind: 'TOPIC' | 'SYMBOL', value: string, follow: boolean): Promise<void> {
  const sk = followKey(kind, value);
  if (follow) await store.dynamo.doc.send(new PutCommand({ TableName: store.userArticlesTable, Item: { userId, sk, followedAt: new Date().toISOString() } }));
  else await store.dynamo.doc.send(new DeleteCommand({ TableName: store.userArticlesTable, Key: { userId, sk } }));
}

/** Records that the caller opened the article; true the first time (then it counts once in viewCount). */
export async function recordRead(store: ArticleStore, userId: string, articleId: string): Promise<boolean> {
  try {
    await store.dynamo.doc.send(
      new PutCommand({
        TableName: store.userArticlesTable,
        Item: { userId, sk: readKey(articleId), articleId, readAt: new Date().toISOString() },
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

async function itemsWithPrefix(store: ArticleStore, userId: string, prefix: string, limit: number) {
  const result = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.userArticlesTable,
      KeyConditionExpression: 'userId = :userId AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':userId': userId, ':prefix': prefix },
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  return result.Items ?? [];
}

/** The caller's profile: follows, watchlist, and affinities from up to 100 liked, saved and read articles. */
export async function profileOf(store: ArticleStore, feeds: SharedFeeds, userId: string, watchlist: string[]): Promise<Profile> {
  const [preferences, liked, saved, read] = await Promise.all([
    readPreferences(store, userId),
    itemsWithPrefix(store, userId, 'LIKED#', 100),
    itemsWithPrefix(store, userId, 'SAVED#', 100),
    itemsWithPrefix(store, userId, 'READ#', 100),
  ]);
  const weights = new Map<string, number>();
  for (const item of liked) weights.set(String(item.articleId), (weights.get(String(item.articleId)) ?? 0) + 3);
  for (const item of saved) weights.set(String(item.articleId), (weights.get(String(item.articleId)) ?? 0) + 2);
  for (const item of read) weights.set(String(item.articleId), (weights.get(String(item.articleId)) ?? 0) + 1);
  const facets = weights.size ? await feeds.facets([...weights.keys()]) : new Map();
  return buildProfile(
    watchlist,
    preferences,
    [...facets].map(([id, article]) => ({ article, weight: weights.get(id)! })),
    read.map((i) => String(i.articleId)),
  );
}

/** The profile from what is known of the reader (pure: the offline evaluation builds it the same way). */
export function buildProfile(
  watchlist: string[],
  preferences: Preferences,
  weighted: { article: Pick<ArticleRecord, 'topics' | 'symbols'>; weight: number }[],
  read: string[],
): Profile {
  const topicAffinity = new Map<string, number>();
  const symbolAffinity = new Map<string, number>();
  for (const { article, weight } of weighted) {
    for (const t of article.topics) topicAffinity.set(t, (topicAffinity.get(t) ?? 0) + weight);
    for (const s of article.symbols) symbolAffinity.set(s, (symbolAffinity.get(s) ?? 0) + weight);
  }
  const normalise = (map: Map<string, number>) => {
    const max = Math.max(1, ...map.values());
    for (const [k, v] of map) map.set(k, v / max);
    return map;
  };
  return {
    watchlist: new Set(watchlist),
    followedTopics: new Set(preferences.topics),
    followedSymbols: new Set(preferences.symbols),
    topicAffinity: normalise(topicAffinity),
    symbolAffinity: normalise(symbolAffinity),
    read: new Set(read),
  };
}

/**
 * The caller's candidates: the newest 200 of the lists of their watchlist and followed symbols and
 * topics together, and the newest 100 of all articles (so something new from elsewhere can still
 * rank), each once. Lists are read whole and shared between readers (SharedFeeds); what the caller
 * may not see (`accept`: blocked sources) is left out here.
 */
export async function feedCandidates(feeds: SharedFeeds, profile: Profile, accept: (a: ArticleRecord) => boolean): Promise<ArticleRecord[]> {
  const symbolFeeds = [...new Set([...profile.watchlist, ...profile.followedSymbols])].slice(0, 50).map((s) => `SYMBOL#${s}`);
  const topicFeeds = [...profile.followedTopics].slice(0, 20).map((t) => `TOPIC#${t}`);
  const [personalLists, everything] = await Promise.all([
    Promise.all([...symbolFeeds, ...topicFeeds].map((feed) => feeds.newest(feed, PERSONAL_CANDIDATES))),
    feeds.newest('ALL', 100),
  ]);
  // The newest 200 of the lists merged are among the newest 200 of each.
  const personal = [...new Map(personalLists.flat().map((a) => [a.id, a])).values()]
    .sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime() || (a.id < b.id ? -1 : 1))
    .slice(0, PERSONAL_CANDIDATES);
  const byId = new Map<string, ArticleRecord>();
  for (const article of [...personal, ...everything]) if (accept(article)) byId.set(article.id, article);
  return [...byId.values()];
}

const PERSONAL_CANDIDATES = 200;

/**
 * One page of the ranked feed, from position `offset` (a cursor's): the articles shown are read
 * again (`load`, strongly consistent), so one hidden or withdrawn since the lists were read is left
 * out and the next one takes its place, and counts are current. Positions name places in `ranked`.
 */
export async function rankedPage(
  ranked: ArticleRecord[],
  offset: number,
  first: number,
  load: (ids: string[]) => Promise<(ArticleRecord | null | Error)[]>,
  accept: (a: ArticleRecord) => boolean,
): Promise<{ shown: { article: ArticleRecord; position: number }[]; hasMore: boolean }> {
  const shown: { article: ArticleRecord; position: number }[] = [];
  let next = offset;
  while (shown.length < first && next < ranked.length) {
    const batch = ranked.slice(next, next + first - shown.length);
    const fresh = await load(batch.map((a) => a.id));
    fresh.forEach((article, n) => {
      if (article instanceof Error) throw article;
      if (article && !article.hidden && accept(article)) shown.push({ article, position: next + n + 1 });
    });
    next += batch.length;
  }
  return { shown, hasMore: next < ranked.length };
}
