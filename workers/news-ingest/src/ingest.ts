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
  /** Stories of one feed stored and published at a time (NEWS_INGEST_CONCURRENCY). */
  concurrency?: number;
}

/**
 * Applies a parsed feed: malformed items to the DLQ (each once per process), every other item
 * recorded in DynamoDB (deduplicated by canonical URL and content hash) and, when that gives a
 * revision not yet on Kafka, published as `news.published.v1` and then marked published.
 */
export function createFeedApplier(options: FeedApplierOptions) {
  const { dynamo, table, bus, enricher, stored } = options;
  const concurrency = options.concurrency ?? 1;
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
    // Oldest first, so that an article's revisions follow the feed's order; what this process
    // stored already costs nothing (a changed feed is read again in full).
    const pending = [...feed.items].reverse().flatMap((item) => {
      const canonical = canonicalUrl(item.canonicalUrl ?? item.link);
      const hash = contentHash(item);
      if (!stored.has(source.name, canonical, hash, item.updatedAt)) return [{ item, canonical, hash }];
      options.onItem?.(source.name, 'unchanged');
      return [];
    });
    // Stories side by side, each story's items one after another (see storyGroups).
    await inPool(storyGroups(pending), concurrency, async (group) => {
      for (const { item, canonical, hash } of group) {
        // Enriched at ingest and stored with the article: tickers, taxonomy topics, headline sentiment.
        const { outcome, article } = await recordItem(dynamo, table, sourceTitle, { ...item, ...enricher.enrich(item) });
        options.onItem?.(source.name, outcome);
        if (article) {
          // On Kafka only once stored; marked published only once Kafka has acknowledged it.
          const { articleId, ...rest } = article;
          await bus.publish(NEWS_TOPIC, [encodeEvent(NEWS_TOPIC, articleId, { articleId, ...rest })]);
          await markPublished(dynamo, table, articleId, article.revision);
          options.onPublished?.(source.name);
        }
        // Only now is it proven: stored from this source with this text (or newer), and on Kafka.
        stored.remember(source.name, canonical, hash, item.updatedAt);
      }
    });
  };
}

/**
 * The items (oldest first) in groups that must go one after another, each group oldest first:
 * items that share a canonical URL or a content hash (revisions of one story, copies of one text
 * under two URLs) are one group, since recordItem reads the article and then writes it, and two
 * revisions side by side could leave the older text. Groups are in the order of their oldest item.
 */
export function storyGroups<T extends { canonical: string; hash: string }>(oldestFirst: T[]): T[][] {
  const parent = oldestFirst.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const firstWith = new Map<string, number>();
  oldestFirst.forEach((entry, i) => {
    for (const key of [`url ${entry.canonical}`, `hash ${entry.hash}`]) {
      const first = firstWith.get(key);
      if (first === undefined) firstWith.set(key, i);
      else parent[root(i)] = root(first);
    }
  });
  const groups = new Map<number, T[]>();
  oldestFirst.forEach((entry, i) => {
    const r = root(i);
    const group = groups.get(r);
    if (group) group.push(entry);
    else groups.set(r, [entry]);
  });
  return [...groups.values()];
}

/** Runs `work` over the tasks, at most `width` at a time, in order; after a failure none is started and the first failure is thrown once the running ones end. */
async function inPool<T>(tasks: T[], width: number, work: (task: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < tasks.length) {
      const task = tasks[next++]!;
      try {
        await work(task);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, tasks.length)) }, worker));
  if (failure) throw failure.error;
}
