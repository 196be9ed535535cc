import { createHash } from 'node:crypto';
import { batchGet, GetCommand, PutCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import type { Enrichment } from '@analytica/news-subgraph/enrich';
import type { FeedItem } from './parse.js';

/**
 * What the worker has seen, in its own table (key `key`): `URL#<canonical URL>` and
 * `HASH#<content hash>` each point at an article id; `ARTICLE#<id>` holds the article as last
 * published with its enrichment (symbols, topics, sentiment, a sentiment per symbol and the model version), the sources
 * that carry it (a string set), its revision and the revision last published.
 */
export function storiesTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
  };
}

const TRACKING = /^(utm_.*|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|cmpid)$/i;

/** The URL without what differs between feeds of one story: tracking parameters, fragment, www., scheme, trailing slash. */
export function canonicalUrl(link: string): string {
  const url = new URL(link);
  url.protocol = 'https:';
  url.hash = '';
  url.hostname = url.hostname.toLowerCase().replace(/^www\./, '');
  if ((url.port === '443' || url.port === '80') && url.protocol === 'https:') url.port = '';
  for (const key of [...url.searchParams.keys()]) if (TRACKING.test(key)) url.searchParams.delete(key);
  url.searchParams.sort();
  if (url.pathname.length > 1) url.pathname = url.pathname.replace(/\/+$/, '');
  return url.toString();
}

const normalised = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/** The story's text, whatever the feed's markup and spacing: a syndicated copy under another URL hashes the same. */
export function contentHash(item: Pick<FeedItem, 'title' | 'body'>): string {
  return createHash('sha256')
    .update(`${normalised(item.title)}\n${normalised(item.body)}`)
    .digest('hex');
}

export interface StoredArticle {
  articleId: string;
  revision: number;
  canonicalUrl: string;
  url: string;
  title: string;
  summary: string;
  body: string;
  sources: string[];
  topics: string[];
  symbols: string[];
  publishedAt: string;
  updatedAt: string;
  contentHash: string;
  /** Absent on an article stored before enrichment. */
  sentiment?: number;
  sentimentModel?: string;
  /** One score per symbol by the same model; absent on an article stored before per-ticker scores. */
  tickerSentiments?: { symbol: string; score: number }[];
  /** The picture the first source that gave one names; the news service fetches and serves it. */
  imageUrl?: string;
}

export type Outcome = 'new' | 'updated' | 'duplicate' | 'unchanged';

function isConditionFailure(error: unknown) {
  return (error as Error).name === 'ConditionalCheckFailedException';
}

async function claim(dynamo: Dynamo, table: string, key: string, articleId: string): Promise<string> {
  try {
    await dynamo.doc.send(
      new PutCommand({ TableName: table, Item: { key, articleId }, ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': 'key' } }),
    );
    return articleId;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const existing = await dynamo.doc.send(new GetCommand({ TableName: table, Key: { key }, ConsistentRead: true }));
    return String(existing.Item?.articleId ?? articleId);
  }
}

/**
 * Finds the article an item belongs to, by canonical URL, then by content hash, and records the
 * item's source on it. Concurrent polls of two feeds with the same story agree on one id: an id is
 * derived from the canonical URL, and the first claim of a content hash wins (a copy under another
 * URL then points its URL at the winner). Returns the article to publish, or null when nothing
 * changed since it was last published.
 */
export async function recordItem(dynamo: Dynamo, table: string, source: string, item: FeedItem & Enrichment): Promise<{ outcome: Outcome; article: StoredArticle | null }> {
  const canonical = canonicalUrl(item.canonicalUrl ?? item.link);
  const hash = contentHash(item);
  const urlKey = `URL#${canonical}`;
  const hashKey = `HASH#${hash}`;
  const found = await batchGet(dynamo, table, [{ key: urlKey }, { key: hashKey }]);
  const byKey = new Map(found.map((i) => [String(i.key), String(i.articleId)]));
  const derived = `n-${createHash('sha256').update(canonical).digest('hex').slice(0, 24)}`;
  let articleId = byKey.get(urlKey) ?? byKey.get(hashKey) ?? derived;
  if (!byKey.has(urlKey)) articleId = await claim(dynamo, table, urlKey, articleId);
  if (!byKey.has(hashKey)) {
    const owner = await claim(dynamo, table, hashKey, articleId);
    if (owner !== articleId && !byKey.has(urlKey)) {
      // Another feed's copy of the same text claimed it first: this URL belongs to that article too.
      await dynamo.doc.send(new PutCommand({ TableName: table, Item: { key: urlKey, articleId: owner } }));
      articleId = owner;
    }
  }

  const articleKey = { key: `ARTICLE#${articleId}` };
  const current = (await dynamo.doc.send(new GetCommand({ TableName: table, Key: articleKey, ConsistentRead: true }))).Item;
  const knownSources = new Set<string>((current?.sources as Set<string> | undefined) ?? []);
  // An older copy (another feed not updated yet, a replay after a restart) never overwrites newer text.
  const newer = !current || item.updatedAt > String(current.updatedAt) || (item.updatedAt === String(current.updatedAt) && hash !== current.contentHash);
  const published = current && Number(current.publishedRevision ?? 0) >= Number(current.revision);
  if (current && knownSources.has(source) && !newer && published) return { outcome: 'unchanged', article: null };

  const content = newer
    ? {
        ':title': item.title,
        ':summary': item.summary,
        ':body': item.body,
        ':topics': item.topics,
        ':symbols': item.symbols,
        ':updatedAt': item.updatedAt,
        ':hash': hash,
        ':sentiment': item.sentiment,
        ':sentimentModel': item.sentimentModel,
        ':tickerSentiments': item.tickerSentiments,
      }
    : {};
  const result = await dynamo.doc.send(
    new UpdateCommand({
      TableName: table,
      Key: articleKey,
      UpdateExpression:
        `ADD sources :source, revision :one SET canonicalUrl = if_not_exists(canonicalUrl, :canonical), #url = if_not_exists(#url, :url), ` +
        `publishedAt = if_not_exists(publishedAt, :publishedAt)` +
        (item.imageUrl ? ', imageUrl = if_not_exists(imageUrl, :image)' : '') +
        (newer
          ? ', title = :title, summary = :summary, body = :body, topics = :topics, symbols = :symbols, updatedAt = :updatedAt, contentHash = :hash, ' +
            'sentiment = :sentiment, sentimentModel = :sentimentModel, tickerSentiments = :tickerSentiments'
          : ''),
      ExpressionAttributeNames: { '#url': 'url' },
      ExpressionAttributeValues: {
        ':source': new Set([source]),
        ':one': 1,
        ':canonical': canonical,
        ':url': item.link,
        ':publishedAt': item.publishedAt,
        ...(item.imageUrl ? { ':image': item.imageUrl } : {}),
        ...content,
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const a = result.Attributes!;
  return {
    outcome: !current ? 'new' : newer ? 'updated' : knownSources.has(source) ? 'unchanged' : 'duplicate',
    article: {
      articleId,
      revision: Number(a.revision),
      canonicalUrl: String(a.canonicalUrl),
      url: String(a.url),
      title: String(a.title),
      summary: String(a.summary),
      body: String(a.body),
      sources: [...((a.sources as Set<string> | undefined) ?? [])].sort(),
      topics: (a.topics as string[] | undefined) ?? [],
      symbols: (a.symbols as string[] | undefined) ?? [],
      publishedAt: String(a.publishedAt),
      updatedAt: String(a.updatedAt),
      contentHash: String(a.contentHash),
      ...(typeof a.sentiment === 'number' ? { sentiment: a.sentiment, sentimentModel: String(a.sentimentModel) } : {}),
      ...(Array.isArray(a.tickerSentiments)
        ? { tickerSentiments: (a.tickerSentiments as { symbol: string; score: number }[]).map(({ symbol, score }) => ({ symbol, score })) }
        : {}),
      ...(typeof a.imageUrl === 'string' ? { imageUrl: a.imageUrl } : {}),
    },
  };
}

/** Marks a revision as on Kafka, so that the next poll does not publish it again. */
export async function markPublished(dynamo: Dynamo, table: string, articleId: string, revision: number): Promise<void> {
  try {
    await dynamo.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { key: `ARTICLE#${articleId}` },
        UpdateExpression: 'SET publishedRevision = :revision',
        ConditionExpression: 'attribute_not_exists(publishedRevision) OR publishedRevision < :revision',
        ExpressionAttributeValues: { ':revision': revision },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
