import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@analytica/dynamo';
import type { Logger } from '@analytica/logger';
import { storedTickerSentiments, type ArticleStore } from '../articles/articles.js';
import type { Enricher } from '../enrich/index.js';

/** Where a re-scoring run is: the version it scores with, the last key it finished, whether it is done. */
const CHECKPOINT = { id: '#rescore', entry: 'STATE' };

export interface RescoreOutcome {
  version: string;
  /** Articles read in this run, and those it gave new scores. */
  scanned: number;
  rescored: number;
  /** False when it stopped early (`maxBatches`, a newer model, or `shouldStop`): the next run resumes from its checkpoint. */
  done: boolean;
}

/**
 * Re-scores every article whose sentiment is not from the current model (older version, or
 * unscored): the headline's sentiment and each symbol's, from the stored text and symbols, with
 * the same code as at ingest. In batches of `batchSize` items of a table scan; after each batch the
 * last key is kept in a checkpoint item, so a run cut short (a restart, a newer model) resumes
 * where it stopped rather than from the start. Idempotent: an article already on the version is
 * left alone (checked in the write's condition, too), and a run for a version already done only
 * reads the checkpoint. A write races a newer revision from news-ingest by its revision: the newer
 * one wins, and carries scores of its own (storePublishedArticle re-scores an event of another version).
 */
export async function rescoreArticles(
  store: ArticleStore,
  enricher: Pick<Enricher, 'modelVersion' | 'rescore'>,
  options: { batchSize?: number; maxBatches?: number; logger?: Logger; shouldStop?: () => boolean } = {},
): Promise<RescoreOutcome> {
  const { dynamo, articlesTable: table } = store;
  const version = enricher.modelVersion;
  const outcome: RescoreOutcome = { version, scanned: 0, rescored: 0, done: false };
  const state = (await dynamo.doc.send(new GetCommand({ TableName: table, Key: CHECKPOINT, ConsistentRead: true }))).Item;
  if (state?.version === version && state.done === true) return { ...outcome, done: true };
  let startKey = state?.version === version ? (state.lastKey as Record<string, unknown> | undefined) : undefined;
  if (startKey) options.logger?.info({ version, from: startKey }, 're-scoring resumes from its checkpoint');

  for (let batch = 0; ; batch++) {
    if (batch >= (options.maxBatches ?? Infinity) || options.shouldStop?.() || enricher.modelVersion !== version) return outcome;
    const page = await dynamo.doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'entry = :article',
        ExpressionAttributeValues: { ':article': 'ARTICLE' },
        Limit: options.batchSize ?? 100,
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      outcome.scanned++;
      if (item.sentimentModel === version && typeof item.sentiment === 'number') continue;
      const symbols = (item.symbols as string[] | undefined) ?? [];
      const scores = enricher.rescore({ title: String(item.title), summary: String(item.summary ?? ''), body: String(item.body ?? '') }, symbols);
      if (scores.sentimentModel !== version) return outcome; // the model changed under this run: the next run takes over
      const hasRevision = typeof item.revision === 'number';
      try {
        await dynamo.doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { id: item.id, entry: 'ARTICLE' },
            UpdateExpression: 'SET sentiment = :sentiment, sentimentModel = :version, tickerSentiments = :tickerSentiments',
            ConditionExpression:
              'attribute_exists(id) AND (attribute_not_exists(sentimentModel) OR sentimentModel <> :version) AND ' +
              (hasRevision ? 'revision = :revision' : 'attribute_not_exists(revision)'),
            ExpressionAttributeValues: {
              ':sentiment': scores.sentiment,
              ':version': version,
              ':tickerSentiments': storedTickerSentiments(scores),
              ...(hasRevision ? { ':revision': item.revision } : {}),
            },
          }),
        );
        outcome.rescored++;
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
    startKey = page.LastEvaluatedKey;
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...CHECKPOINT, version, done: !startKey, ...(startKey ? { lastKey: startKey } : {}) } }));
    if (!startKey) {
      options.logger?.info({ version, rescored: outcome.rescored }, 'articles re-scored with the active sentiment model');
      return { ...outcome, done: true };
    }
  }
}

/**
 * Runs re-scoring in the background whenever asked (at start, and when the registry's active
 * sentiment version changes), one run at a time: a request during a run starts another after it.
 * A failed run is logged and retried at the next request.
 */
export function startRescoring(store: ArticleStore, enricher: Enricher, logger: Logger, options: { batchSize?: number } = {}) {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const run = async (): Promise<void> => {
    do {
      again = false;
      try {
        await rescoreArticles(store, enricher, { ...options, logger, shouldStop: () => stopped });
      } catch (error) {
        logger.error({ err: error, version: enricher.modelVersion }, 're-scoring failed; it resumes from its checkpoint at the next model change or start');
      }
    } while (again && !stopped);
  };
  return {
    /** Starts a run, or another after the current one. */
    trigger() {
      if (stopped) return;
      if (running) again = true;
      else
        running = run().finally(() => {
          running = null;
        });
    },
    /** Resolves when no run is going. */
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
