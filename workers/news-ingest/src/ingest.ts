import { createHash } from 'node:crypto';
import type { Dynamo } from '@analytica/dynamo';
import { encodeEvent, HEADER, type EventBus } from '@analytica/events';
import type { Enricher } from '@analytica/news-subgraph/enrich';
import type { StoredItems } from './memory.js';
import type { ParsedFeed } from './parse.js';
import { canonicalUrl, contentHash, markPublished, recordItem, type Outcome } from './store.js';

export const NEWS_TOPIC = 'news.published.v1';
/** Feed items that could not be read: one message per item, keyed and headed by the source's name. */
export const NEWS_DLQ_TOPIC = 'news.ingest.dlq';
export const SOURCE_HEADER = 'news-source';

export interface FeedApplierOptions {
  dynamo: Dynamo;
  /** The worker's stories table. */
  table: string;
  bus: EventBus;
  enricher: Pick<Enricher, 'enrich'>;
  /** What this process already stored; items it proves unchanged cost no DynamoDB call. */
  stored: StoredItems;
  onItem?: (source: string, outcome: Outcome | 'malformed') => void;
  onPublished?: (source: string) => void;
}

/**
 * Applies a parsed feed: malformed items to the DLQ (each once per process), every other item
 * recorded in DynamoDB (deduplicated by canonical URL and content hash) and, when that gives a
 * revision not yet on Kafka, published as `news.published.v1` and then marked published.
 */
export function createFeedApplier(options: FeedApplierOptions) {
  const { dynamo, table, bus, enricher, stored } = options;
  // Malformed items already dead-lettered (a changed feed is read again in full); bounded.
  const deadLettered = new Set<string>();

  return async function apply(source: { name: string; title?: string; url: string }, feed: ParsedFeed): Promise<void> {
    const sourceTitle = source.title ?? source.name;
    for (const bad of feed.malformed) {
      const id = createHash('sha256').update(`${source.name}\n${bad.raw}`).digest('hex');
      if (deadLettered.has(id)) continue;
      await bus.publish(NEWS_DLQ_TOPIC, [
        {
          key: source.name,
          value: JSON.stringify({ source: source.name, feedUrl: source.url, reason: bad.reason, item: bad.raw, seenAt: new Date().toISOString() }),
          headers: { [HEADER.id]: id, [HEADER.reason]: bad.reason.slice(0, 1000), [SOURCE_HEADER]: source.name, [HEADER.occurredAt]: new Date().toISOString() },
        },
      ]);
      if (deadLettered.size >= 10_000) deadLettered.clear();
      deadLettered.add(id);
      options.onItem?.(source.name, 'malformed');
    }
    // Oldest first, so that an article's revisions follow the feed's order.
    for (const item of [...feed.items].reverse()) {
      const canonical = canonicalUrl(item.canonicalUrl ?? item.link);
      const hash = contentHash(item);
      // A changed feed is read again in full: what this process stored already costs nothing.
      if (stored.has(source.name, canonical, hash, item.updatedAt)) {
        options.onItem?.(source.name, 'unchanged');
        continue;
      }
      // Enriched at ingest and stored with the article: tickers, taxonomy topics, headline sentiment.
      const { outcome, article } = await recordItem(dynamo, table, sourceTitle, { ...item, ...enricher.enrich(item) });
      options.onItem?.(source.name, outcome);
      if (article) {
        const { articleId, ...rest } = article;
        await bus.publish(NEWS_TOPIC, [encodeEvent(NEWS_TOPIC, articleId, { articleId, ...rest })]);
        await markPublished(dynamo, table, articleId, article.revision);
        options.onPublished?.(source.name);
      }
      // Only now is it proven: stored from this source with this text (or newer), and on Kafka.
      stored.remember(source.name, canonical, hash, item.updatedAt);
    }
  };
}
