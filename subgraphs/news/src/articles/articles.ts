import { readFile } from 'node:fs/promises';
import { z } from '@analytica/config';
import { batchGet, batchWrite, GetCommand, PutCommand, QueryCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';

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
  likeCount: number;
}

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
 * Stores the bundled articles. Idempotent: skipped when the bundle's version is already in, and
 * content is written with SET so a re-ingest never resets a like count.
 */
export async function ingestArticleBundle(store: ArticleStore, bundle: ArticleBundle): Promise<'loaded' | 'current'> {
  const { dynamo, articlesTable: table } = store;
  const marker = await dynamo.doc.send(new GetCommand({ TableName: table, Key: MARKER, ConsistentRead: true }));
  if (marker.Item?.version === bundle.version) return 'current';

  for (const article of bundle.articles) {
    await dynamo.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { id: article.id, entry: ARTICLE },
        UpdateExpression:
          'SET title = :title, summary = :summary, body = :body, #source = :source, #url = :url, topics = :topics, ' +
          'symbols = :symbols, publishedAt = :publishedAt, likeCount = if_not_exists(likeCount, :zero)',
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
        },
      }),
    );
    const wanted = feedsOf(article);
    const existing = await dynamo.doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'id = :id AND begins_with(entry, :feed)',
        ExpressionAttributeValues: { ':id': article.id, ':feed': 'FEED#' },
        ProjectionExpression: 'entry',
        ConsistentRead: true,
      }),
    );
    // A topic or symbol dropped from the article must drop out of that feed too.
    const stale = (existing.Items ?? []).map((i) => String(i.entry)).filter((entry) => !wanted.includes(entry.slice('FEED#'.length)));
    await batchWrite(dynamo, table, [
      ...wanted.map((feed) => ({
        PutRequest: {
          Item: { id: article.id, entry: `FEED#${feed}`, feed, feedSort: `${article.publishedAt}#${article.id}`, topics: article.topics },
        },
      })),
      ...stale.map((entry) => ({ DeleteRequest: { Key: { id: article.id, entry } } })),
    ]);
  }
  await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...MARKER, version: bundle.version, count: bundle.articles.length } }));
  return 'loaded';
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
    likeCount: Number(item.likeCount ?? 0),
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
export async function adjustLikeCount(store: ArticleStore, id: string, delta: 1 | -1): Promise<void> {
  try {
    await store.dynamo.doc.send(
      new UpdateCommand({
        TableName: store.articlesTable,
        Key: { id, entry: ARTICLE },
        UpdateExpression: 'ADD likeCount :delta',
        ConditionExpression: delta > 0 ? 'attribute_exists(id)' : 'likeCount > :zero',
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

/** One page of a feed, newest first. */
export async function listArticles(store: ArticleStore, request: FeedRequest): Promise<FeedPage> {
  const { feed, topicFilter } = feedFor(request);
  const after = request.after ? decodeCursor(request.after, feed) : undefined;
  const found: { id: string; sort: string }[] = [];
  let startKey: Record<string, unknown> | undefined;
  // One more than asked tells whether a next page exists; a topic filter may need several reads.
  do {
    const page = await store.dynamo.doc.send(
      new QueryCommand({
        TableName: store.articlesTable,
        IndexName: FEED_INDEX,
        KeyConditionExpression: after ? 'feed = :feed AND feedSort < :after' : 'feed = :feed',
        ...(topicFilter ? { FilterExpression: 'contains(topics, :topic)' } : {}),
        ExpressionAttributeValues: {
          ':feed': feed,
          ...(after ? { ':after': after.sort } : {}),
          ...(topicFilter ? { ':topic': topicFilter } : {}),
        },
        ScanIndexForward: false,
        // Limit counts items read before the filter, so a filtered read takes bigger steps.
        Limit: topicFilter ? 100 : request.first + 1 - found.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) found.push({ id: String(item.id), sort: String(item.feedSort) });
    startKey = page.LastEvaluatedKey;
  } while (startKey && found.length <= request.first);

  const pageEntries = found.slice(0, request.first);
  const articles = await getArticles(
    store,
    pageEntries.map((e) => e.id),
  );
  return {
    articles: pageEntries.flatMap((entry, n) => {
      const article = articles[n];
      return article ? [{ article, cursor: encodeCursor({ feed, sort: entry.sort }) }] : [];
    }),
    hasNextPage: found.length > request.first,
  };
}
