import { UpdateCommand } from '@analytica/dynamo';
import { runConsumer, type Consumer, type EventBus, type EventPayload } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { LivePublisher } from '@analytica/redis/live';
import { writeFeedRows, type ArticleStore } from '../articles/articles.js';
import type { Enricher } from '../enrich/index.js';

export type PublishedArticle = EventPayload<'news.published.v1'>;

/**
 * The per-ticker scores as stored: each with its model version. An event from before per-ticker
 * scores gives every symbol the article's score, so a symbol filter never loses an article.
 */
export function tickerSentimentsOf(article: PublishedArticle): { symbol: string; score: number; modelVersion: string }[] {
  const modelVersion = article.sentimentModel ?? 'unknown';
  const given = new Map((article.tickerSentiments ?? []).map((t) => [t.symbol, t.score]));
  return article.symbols.map((symbol) => ({ symbol, score: given.get(symbol) ?? article.sentiment!, modelVersion }));
}

/**
 * Stores an article from `news.published.v1` beside the bundled ones (the same `ARTICLE` item and
 * feed items, so `articles(...)` and `latestHeadline` list it), with the enrichment news-ingest
 * computed (symbols, topics, sentiment, a sentiment per symbol and the model version), unless a higher revision is
 * already in: redeliveries and late events change nothing, and a like count is never reset.
 * Returns whether it changed the article.
 */
export async function storePublishedArticle(store: ArticleStore, published: PublishedArticle, enricher?: Pick<Enricher, 'modelVersion' | 'rescore'>): Promise<boolean> {
  const { dynamo, articlesTable: table } = store;
  // Scored by another version than the one active here (news-ingest not switched yet, a replay):
  // scored again, so that no article falls behind a model change.
  const article = enricher && published.sentimentModel !== enricher.modelVersion ? { ...published, ...enricher.rescore(published, published.symbols) } : published;
  const id = article.articleId;
  let hidden = false;
  try {
    const updated = await dynamo.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { id, entry: 'ARTICLE' },
        UpdateExpression:
          'SET title = :title, summary = :summary, body = :body, #source = :source, sources = :sources, #url = :url, canonicalUrl = :canonical, ' +
          'topics = :topics, symbols = :symbols, publishedAt = :publishedAt, updatedAt = :updatedAt, revision = :revision, likeCount = if_not_exists(likeCount, :zero)' +
          (article.sentiment === undefined ? '' : ', sentiment = :sentiment, sentimentModel = :sentimentModel, tickerSentiments = :tickerSentiments'),
        ConditionExpression: 'attribute_not_exists(revision) OR revision < :revision',
        ExpressionAttributeNames: { '#source': 'source', '#url': 'url' },
        ExpressionAttributeValues: {
          ':title': article.title,
          ':summary': article.summary,
          ':body': article.body,
          ':source': article.sources.join(', '),
          ':sources': article.sources,
          ':url': article.url,
          ':canonical': article.canonicalUrl,
          ':topics': article.topics,
          ':symbols': article.symbols,
          ':publishedAt': article.publishedAt,
          ':updatedAt': article.updatedAt,
          ':revision': article.revision,
          ':zero': 0,
          ...(article.sentiment === undefined
            ? {}
            : {
                ':sentiment': article.sentiment,
                ':sentimentModel': article.sentimentModel ?? 'unknown',
                ':tickerSentiments': tickerSentimentsOf(article),
              }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    // A hidden article stays hidden through later revisions: its text changes, its lists stay empty.
    hidden = updated.Attributes?.hidden === true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
  await writeFeedRows(store, id, article, !hidden);
  return true;
}

/**
 * Consumes `news.published.v1`: stores each article, then tells the subscribers of each symbol it
 * mentions (`Quote.<symbol>`, the key only: the gateway fetches `latestHeadline` and the market's
 * fields per event). The live notice is best effort, after the write.
 */
export function consumePublishedArticles(deps: {
  bus: EventBus;
  store: ArticleStore;
  groupId: string;
  logger: Logger;
  live?: LivePublisher;
  /** Scores an event again whose sentiment is from another model version than the active one. */
  enricher?: Pick<Enricher, 'modelVersion' | 'rescore'>;
  /** Called with the symbols of a stored article, and awaited, before subscribers are told (renews cached headlines). */
  onStored?: (symbols: readonly string[]) => Promise<void>;
}): Promise<Consumer> {
  return runConsumer({
    bus: deps.bus,
    groupId: deps.groupId,
    topic: 'news.published.v1',
    logger: deps.logger,
    async handle(event) {
      const changed = await storePublishedArticle(deps.store, event.payload, deps.enricher);
      if (!changed) return;
      await deps.onStored?.(event.payload.symbols);
      const live = deps.live;
      if (!live) return;
      const results = await Promise.allSettled(event.payload.symbols.map((symbol) => live.entity('Quote', symbol, { symbol })));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) deps.logger.warn({ err: failure.reason, articleId: event.payload.articleId }, 'could not publish the headline change live');
    },
  });
}
