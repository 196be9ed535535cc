import { readFile } from 'node:fs/promises';
import { z } from '@analytica/config';
import { batchGet, batchWrite, GetCommand, PutCommand, QueryCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';
import type { Enricher, SentimentScores } from '../enrich/index.js';

const topic = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a lower-case slug such as personal-finance');
const symbol = z.string().regex(/^[A-Z0-9][A-Z0-9.-]{0,19}$/, 'must be an upper-case symbol such as AAPL or SAP.DE');

const BundledArticleSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{2,119}$/, 'must be a lower-case slug'),
  title: z.string().min(1).max(200),
  summary: z.string().min(1).max(500),
  body: z.string().min(1),
  source: z.string().min(1),
  url: z.url({ protocol: /^https?$/ }),
  topics: z.array(topic).min(1),
  symbols: z.array(symbol),
  publishedAt: z.iso.datetime(),
});
export type BundledArticle = z.infer<typeof BundledArticleSchema>;

const BundleSchema = z
  .object({ version: z.string().min(1), articles: z.array(BundledArticleSchema).min(1) })
  .refine((file) => new Set(file.articles.map((a) => a.id)).size === file.articles.length, { message: 'article ids must be unique' });
export type ArticleBundle = z.infer<typeof BundleSchema>;

export async function readArticleBundle(path: URL | string = new URL('../../data/articles.json', import.meta.url)): Promise<ArticleBundle> {
  return BundleSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

export interface ArticleRecord {
  id: string;
  title: string;
  summary: string;
  body: string;
  source: string;
  url: string;
  topics: string[];
  symbols: string[];
  publishedAt: Date;
  /** publishedAt as stored, which the feed items' sort keys begin with. */
  publishedAtText: string;
  likeCount: number;
  /** Every publication that carries it (bundled articles: their one source). */
  sources: string[];
  /** Hidden by a moderator: listed nowhere, NOT_FOUND to readers. */
  hidden: boolean;
  /** Readers who opened it (each once) and who saved it; with likeCount they make its popularity. */
  viewCount: number;
  saveCount: number;
  /** -1 (negative) to 1 (positive), once enrichment scored it; null before. */
  sentiment: number | null;
  /** The version of the model that scored the sentiment; null when unscored. */
  sentimentModel: string | null;
  /** A sentiment per symbol the article names, each with its model version; empty when unscored. */
  tickerSentiments: TickerSentimentRecord[];
}

export interface TickerSentimentRecord {
  symbol: string;
  /** -1 (negative) to 1 (positive). */
  score: number;
  modelVersion: string;
}

/**
 * The sentiment an article has for one of its symbols: its per-ticker score, else (an article
 * scored before per-ticker scores) its own score; null when it is unscored or does not name it.
 */
export function sentimentFor(article: Pick<ArticleRecord, 'symbols' | 'sentiment' | 'tickerSentiments'>, symbol: string): number | null {
  const own = article.tickerSentiments.find((t) => t.symbol === symbol);
  if (own) return own.score;
  return article.symbols.includes(symbol) ? article.sentiment : null;
}

/** Interactions weighed into one number: a like counts 3, a save 2, a reader who opened it 1. */
export const popularityOf = (a: Pick<ArticleRecord, 'likeCount' | 'saveCount' | 'viewCount'>) => 3 * a.likeCount + 2 * a.saveCount + a.viewCount;

/**
 * One partition per article (`id`). Its `entry = ARTICLE` item holds the content and the like
 * count; beside it sits one small feed item per list the article appears in: all articles, each
 * of its topics, each symbol it mentions. An article has several topics, so a GSI on a single
 * `topic` attribute could index it under one topic only; feed items give it one index row per
 * list. The sparse GSI `byFeed` (feed, publishedAt#id) then lists any feed newest first with one
 * Query, and a like still changes exactly one item because feed items carry no counters.
 */
export function articlesTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'id', AttributeType: 'S' },
      { AttributeName: 'entry', AttributeType: 'S' },
      { AttributeName: 'feed', AttributeType: 'S' },
      { AttributeName: 'feedSort', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'id', KeyType: 'HASH' },
      { AttributeName: 'entry', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: FEED_INDEX,
        KeySchema: [
          { AttributeName: 'feed', KeyType: 'HASH' },
          { AttributeName: 'feedSort', KeyType: 'RANGE' },
        ],
        // Topics ride along so that "this symbol, in this topic" filters on the index alone.
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['topics'] },
      },
    ],
  };
}

const FEED_INDEX = 'byFeed';
const ARTICLE = 'ARTICLE';
const MARKER = { id: '#bundle', entry: 'VERSION' };

export interface ArticleStore {
  dynamo: Dynamo;
  articlesTable: string;
  userArticlesTable: string;
}

/**
 * The feeds an article is listed in. "All" is one partition of the index: fine at news rates (a
 * few thousand articles a day); a busier source would shard it by day.
 */
export function feedsOf(article: Pick<BundledArticle, 'topics' | 'symbols'>): string[] {
  return ['ALL', ...article.topics.map((t) => `TOPIC#${t}`), ...article.symbols.map((s) => `SYMBOL#${s}`)];
}

/**
 * A bundled article as it is stored: its own topics and symbols with those enrichment finds (the
 * same code and model as news-ingest's), and the sentiment of its headline and of each symbol.
 */
export function enrichBundledArticle(article: BundledArticle, enricher: Enricher): BundledArticle & SentimentScores {
  const found = enricher.enrich({ title: article.title, summary: article.summary, body: article.body, tickers: article.symbols, topics: article.topics });
  const topics = [...new Set([...article.topics, ...found.topics])];
  const symbols = [...new Set([...article.symbols, ...found.symbols])];
  // A symbol the reference list does not know is kept from the bundle, and scored like the rest.
  const scores = symbols.length === found.symbols.length ? found : enricher.rescore(article, symbols);
  return { ...article, topics, symbols, sentiment: scores.sentiment, sentimentModel: scores.sentimentModel, tickerSentiments: scores.tickerSentiments };
}

/** Per-ticker scores as the articles table keeps them: each with the version that scored it. */
export const storedTickerSentiments = (scores: SentimentScores) => scores.tickerSentiments.map(({ symbol, score }) => ({ symbol, score, modelVersion: scores.sentimentModel }));

/**
 * Stores the bundled articles, enriched at seeding when an enricher is given (tickers, topics,
 * sentiment and sentiment per ticker, as news-ingest enriches what it ingests). Idempotent: skipped
 * when the bundle's version is already in (and enriched, when asked to enrich), and content is
 * written with SET so a re-ingest never resets a like count. A later model is applied by the
 * re-scoring (rescore.ts), not here.
 */
export async function ingestArticleBundle(store: ArticleStore, bundle: ArticleBundle, enricher?: Enricher): Promise<'loaded' | 'current'> {
  const { dynamo, articlesTable: table } = store;
  const marker = await dynamo.doc.send(new GetCommand({ TableName: table, Key: MARKER, ConsistentRead: true }));
  if (marker.Item?.version === bundle.version && (!enricher || marker.Item?.enriched === true)) return 'current';

  for (const given of bundle.articles) {
    const article = enricher ? enrichBundledArticle(given, enricher) : given;
    const scored = 'sentimentModel' in article ? (article as BundledArticle & SentimentScores) : undefined;
    const updated = await dynamo.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { id: article.id, entry: ARTICLE },
        UpdateExpression:
          'SET title = :title, summary = :summary, body = :body, #source = :source, #url = :url, topics = :topics, ' +
          'symbols = :symbols, publishedAt = :publishedAt, likeCount = if_not_exists(likeCount, :zero)' +
          (scored ? ', sentiment = :sentiment, sentimentModel = :sentimentModel, tickerSentiments = :tickerSentiments' : ''),
        ExpressionAttributeNames: { '#source': 'source', '#url': 'url' },
        ExpressionAttributeValues: {
          ':title': article.title,
          ':summary': article.summary,
          ':body': article.body,
          ':source': article.source,
          ':url': article.url,
          ':topics': article.topics,
          ':symbols': article.symbols,
          ':publishedAt': article.publishedAt,
          ':zero': 0,
          ...(scored ? { ':sentiment': scored.sentiment, ':sentimentModel': scored.sentimentModel, ':tickerSentiments': storedTickerSentiments(scored) } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    await writeFeedRows(store, article.id, article, !updated.Attributes?.hidden);
  }
  await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...MARKER, version: bundle.version, count: bundle.articles.length, enriched: Boolean(enricher) } }));
  return 'loaded';
}

/**
 * Puts the article's feed items (one per list it belongs in) and drops those of lists it left; a
 * hidden article keeps none, so no list, no headline and no feed can show it.
 */
export async function writeFeedRows(store: ArticleStore, id: string, article: Pick<BundledArticle, 'topics' | 'symbols' | 'publishedAt'>, visible: boolean): Promise<void> {
  const { dynamo, articlesTable: table } = store;
  const wanted = visible ? feedsOf(article) : [];
  const existing = await dynamo.doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'id = :id AND begins_with(entry, :feed)',
      ExpressionAttributeValues: { ':id': id, ':feed': 'FEED#' },
      ProjectionExpression: 'entry',
      ConsistentRead: true,
    }),
  );
  const stale = (existing.Items ?? []).map((i) => String(i.entry)).filter((entry) => !wanted.includes(entry.slice('FEED#'.length)));
  await batchWrite(dynamo, table, [
    ...wanted.map((feed) => ({
      PutRequest: { Item: { id, entry: `FEED#${feed}`, feed, feedSort: `${article.publishedAt}#${id}`, topics: article.topics } },
    })),
    ...stale.map((entry) => ({ DeleteRequest: { Key: { id, entry } } })),
  ]);
}

function toRecord(item: Record<string, unknown>): ArticleRecord {
  return {
    id: String(item.id),
    title: String(item.title),
    summary: String(item.summary),
    body: String(item.body),
    source: String(item.source),
    url: String(item.url),
    topics: (item.topics as string[] | undefined) ?? [],
    symbols: (item.symbols as string[] | undefined) ?? [],
    publishedAt: new Date(String(item.publishedAt)),
    publishedAtText: String(item.publishedAt),
    likeCount: Number(item.likeCount ?? 0),
    sources: Array.isArray(item.sources) ? item.sources.map(String) : item.sources instanceof Set ? [...(item.sources as Set<string>)] : [String(item.source)],
    hidden: item.hidden === true,
    viewCount: Number(item.viewCount ?? 0),
    saveCount: Number(item.saveCount ?? 0),
    sentiment: typeof item.sentiment === 'number' ? item.sentiment : null,
    sentimentModel: typeof item.sentiment === 'number' && typeof item.sentimentModel === 'string' ? item.sentimentModel : null,
    tickerSentiments: Array.isArray(item.tickerSentiments)
      ? (item.tickerSentiments as Record<string, unknown>[]).map((t) => ({ symbol: String(t.symbol), score: Number(t.score), modelVersion: String(t.modelVersion) }))
      : [],
  };
}

/** Articles by id in the order asked, null where there is none. */
export async function getArticles(store: ArticleStore, ids: readonly string[]): Promise<(ArticleRecord | null)[]> {
  const unique = [...new Set(ids)];
  const items = await batchGet(
    store.dynamo,
    store.articlesTable,
    unique.map((id) => ({ id, entry: ARTICLE })),
  );
  const byId = new Map(items.map((item) => [String(item.id), toRecord(item)]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Adds `delta` (+1 or -1) to the like count; a count never goes below zero. */
export function adjustLikeCount(store: ArticleStore, id: string, delta: 1 | -1): Promise<void> {
  return adjustCount(store, id, 'likeCount', delta);
}

/** Adds `delta` (+1 or -1) to one of the article's counters; a count never goes below zero. */
export async function adjustCount(store: ArticleStore, id: string, counter: 'likeCount' | 'saveCount' | 'viewCount', delta: 1 | -1): Promise<void> {
  try {
    await store.dynamo.doc.send(
      new UpdateCommand({
        TableName: store.articlesTable,
        Key: { id, entry: ARTICLE },
        UpdateExpression: 'ADD #counter :delta',
        ConditionExpression: delta > 0 ? 'attribute_exists(id)' : '#counter > :zero',
        ExpressionAttributeNames: { '#counter': counter },
        ExpressionAttributeValues: delta > 0 ? { ':delta': delta } : { ':delta': delta, ':zero': 0 },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

export interface FeedRequest {
  topic?: string | null;
  symbol?: string | null;
  first: number;
  after?: string | null;
}

export interface FeedPage {
  articles: { article: ArticleRecord; cursor: string }[];
  hasNextPage: boolean;
}

interface Cursor {
  feed: string;
  sort: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ f: cursor.feed, s: cursor.sort })).toString('base64url');
}

/** A cursor belongs to one list: one from another list, or one that was edited, is refused. */
export function decodeCursor(text: string, feed: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { f, s } = (parsed ?? {}) as { f?: unknown; s?: unknown };
  if (typeof f !== 'string' || typeof s !== 'string') throw badInput('after', 'This cursor is not one we gave out; pass an endCursor from a previous page.');
  if (f !== feed) throw badInput('after', 'This cursor belongs to a different list; ask again without it, or with the same topic and symbol.');
  return { feed: f, sort: s };
}

/** Which feed answers a request: a symbol is the narrower list, so a topic is then a filter on it. */
export function feedFor(request: Pick<FeedRequest, 'topic' | 'symbol'>): { feed: string; topicFilter?: string } {
  if (request.symbol) return { feed: `SYMBOL#${request.symbol}`, topicFilter: request.topic ?? undefined };
  if (request.topic) return { feed: `TOPIC#${request.topic}` };
  return { feed: 'ALL' };
}

export const FEED_INDEX_NAME = FEED_INDEX;

export interface CollectRequest {
  /** The lists to merge (`ALL`, `TOPIC#markets`, `SYMBOL#AAPL`), newest first. */
  feeds: string[];
  /** Keep only articles with at least one of these topics (checked on the index). */
  topics?: string[];
  /** feedSort bounds: newer than `since` (an ISO time), older than `before` (a cursor's sort). */
  since?: string;
  before?: string;
  /** How many to find; one more is looked for to tell whether there are more. */
  want: number;
  /** Which loaded articles count (hidden ones never do). */
  accept?: (article: ArticleRecord) => boolean;
}

/**
 * Articles from several lists merged newest first, each once: every list gives its newest items
 * below the bound, the merged newest are loaded and filtered, and the bound moves down until
 * enough are found or the lists run out (at most 20 rounds).
 */
export async function collectArticles(store: ArticleStore, request: CollectRequest): Promise<{ found: { article: ArticleRecord; sort: string }[]; hasMore: boolean }> {
  const found: { article: ArticleRecord; sort: string }[] = [];
  const seen = new Set<string>();
  let before = request.before ?? '\uffff';
  const since = request.since ?? '';
  const chunk = Math.min(Math.max(request.want + 1, 10), 200);
  for (let round = 0; round < 20 && found.length <= request.want; round++) {
    const perFeed = await Promise.all(
      request.feeds.map(async (feed) => {
        const items: { id: string; sort: string }[] = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await store.dynamo.doc.send(
            new QueryCommand({
              TableName: store.articlesTable,
              IndexName: FEED_INDEX,
              KeyConditionExpression: 'feed = :feed AND feedSort BETWEEN :since AND :before',
              ...(request.topics?.length ? { FilterExpression: request.topics.map((_, n) => `contains(topics, :t${n})`).join(' OR ') } : {}),
              ExpressionAttributeValues: {
                ':feed': feed,
                ':since': since,
                ':before': before,
                ...Object.fromEntries((request.topics ?? []).map((t, n) => [`:t${n}`, t])),
              },
              ScanIndexForward: false,
              Limit: request.topics?.length ? 200 : chunk,
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of page.Items ?? []) {
            const sort = String(item.feedSort);
            if (sort < before && sort > since) items.push({ id: String(item.id), sort });
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey && items.length < chunk);
        return { items: items.slice(0, chunk), more: Boolean(startKey) || items.length > chunk };
      }),
    );
    const merged = perFeed
      .flatMap((f) => f.items)
      .sort((a, b) => (a.sort < b.sort ? 1 : a.sort > b.sort ? -1 : 0))
      .filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
    // Below the newest `chunk` of every list the merge is complete only down to the highest of the lists' last items.
    const floor = perFeed.filter((f) => f.items.length === chunk || f.more).reduce((max, f) => (f.items.at(-1)!.sort > max ? f.items.at(-1)!.sort : max), '');
    const complete = merged.filter((e) => e.sort >= floor);
    if (complete.length === 0) break;
    const articles = await getArticles(
      store,
      complete.map((e) => e.id),
    );
    complete.forEach((entry, n) => {
      const article = articles[n];
      if (article && !article.hidden && (request.accept?.(article) ?? true)) found.push({ article, sort: entry.sort });
    });
    before = complete.at(-1)!.sort;
    for (const e of merged) if (e.sort < floor) seen.delete(e.id);
    if (!floor) break; // every list gave all it had
  }
  return { found: found.slice(0, request.want), hasMore: found.length > request.want };
}

/** One page of a feed, newest first; hidden articles and those `accept` refuses are left out. */
export async function listArticles(store: ArticleStore, request: FeedRequest & { accept?: (article: ArticleRecord) => boolean }): Promise<FeedPage> {
  const { feed, topicFilter } = feedFor(request);
  const after = request.after ? decodeCursor(request.after, feed) : undefined;
  const { found, hasMore } = await collectArticles(store, {
    feeds: [feed],
    topics: topicFilter ? [topicFilter] : undefined,
    before: after?.sort,
    want: request.first,
    accept: request.accept,
  });
  return {
    articles: found.map(({ article, sort }) => ({ article, cursor: encodeCursor({ feed, sort }) })),
    hasNextPage: hasMore,
  };
}
