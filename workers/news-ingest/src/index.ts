import client from 'prom-client';
import { dynamoFromEnv } from '@analytica/dynamo';
import { busFromEnv, type EventBus } from '@analytica/events';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { createHttpService, lifecycle } from '@analytica/service';
import type { NewsIngestEnv, SourceConfig } from './environment.js';
import { createEnricher, followSentimentModel } from '@analytica/news-subgraph/enrich';
import { startPoller, type PollOutcome } from './poller.js';
import { createFeedApplier } from './ingest.js';
import { createStoredItems } from './memory.js';
import { storiesTable } from './store.js';

export { newsIngestEnvShape, parseNewsIngestEnv, type NewsIngestEnv, type SourceConfig } from './environment.js';
export { canonicalUrl, contentHash } from './store.js';
export { createEnricher, TOPICS, TOPIC_SLUGS, type Enrichment } from '@analytica/news-subgraph/enrich';

export { NEWS_DLQ_TOPIC, NEWS_TOPIC, SOURCE_HEADER } from './ingest.js';

export interface Dependencies {
  /** The embedded runner's local event log instead of Kafka; not closed here. */
  bus?: EventBus;
}

/**
 * Starts the news ingest worker: each configured source polled on its own schedule, items
 * deduplicated by canonical URL and content hash into one article with every source that carries
 * it, each new or changed article published as `news.published.v1` (key: article id), and each
 * malformed item sent to `news.ingest.dlq` naming its source while the rest of the feed is applied.
 */
export async function startNewsIngest(env: NewsIngestEnv, deps: Dependencies = {}) {
  const logger = createLogger('news-ingest', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const dynamo = await resources.open(
    'dynamodb',
    () => dynamoFromEnv(env),
    (d) => d.close(),
  );
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'news-ingest', logger),
      (b) => b.close(),
    ));
  const table = `${env.DYNAMODB_TABLE_PREFIX}news_ingest_stories`;
  const pollers: ReturnType<typeof startPoller>[] = [];

  const service = createHttpService({
    name: 'news-ingest',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    readiness: { dynamodb: dynamo.ping, [deps.bus ? 'events' : 'kafka']: () => bus.ping() },
    beforeDrain: async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    },
    onStop: resources.closeAll,
  });
  const metrics = ingestMetrics(service.registry, env.NEWS_SOURCES);

  await resources.run('sources', async () => {
    await dynamo.ensureTable(storiesTable(table));
    // The registry's active sentiment version, followed as it is activated or rolled back.
    const sentiment = await resources.open(
      'sentiment model',
      () => followSentimentModel({ env, logger }),
      (source) => source.stop(),
    );
    const enricher = createEnricher((await readReferenceFile()).instruments, sentiment.current);
    logger.info({ sentimentModel: enricher.modelVersion, from: sentiment.description }, 'enrichment ready');
    const apply = createFeedApplier({
      dynamo,
      table,
      bus,
      enricher,
      stored: createStoredItems(env.NEWS_MEMORY_ITEMS),
      concurrency: env.NEWS_INGEST_CONCURRENCY,
      onItem: (source, outcome) => metrics.items.inc({ source, outcome }),
      onPublished: (source) => metrics.published.inc({ source }),
    });

    for (const source of env.NEWS_SOURCES) {
      pollers.push(
        startPoller({
          source,
          timeoutMs: env.NEWS_FETCH_TIMEOUT_MS,
          maxBackoffMs: env.NEWS_MAX_BACKOFF_MS,
          maxBytes: env.NEWS_MAX_FEED_BYTES,
          logger,
          apply: (feed) => apply(source, feed),
          observe: (outcome, seconds, failures) => metrics.polled(source.name, outcome, seconds, failures),
        }),
      );
    }
    logger.info({ sources: env.NEWS_SOURCES.map((s) => s.name), transport: deps.bus ? deps.bus.kind : 'kafka' }, 'polling news sources');
  });
  return resources.run('http server', () => service.start());
}

function ingestMetrics(registry: client.Registry, sources: SourceConfig[]) {
  const polls = new client.Counter({
    name: 'news_ingest_polls_total',
    help: 'Polls per source by outcome: ok, not_modified (304), http_error, timeout, garbage (no feed), too_large, network, apply_failed',
    labelNames: ['source', 'outcome'],
    registers: [registry],
  });
  const items = new client.Counter({
    name: 'news_ingest_items_total',
    help: 'Feed items per source by outcome: new, updated, duplicate (a story another source already gave), unchanged, malformed (dead-lettered)',
    labelNames: ['source', 'outcome'],
    registers: [registry],
  });
  const published = new client.Counter({ name: 'news_ingest_published_total', help: 'news.published.v1 events per source', labelNames: ['source'], registers: [registry] });
  const failures = new client.Gauge({
    name: 'news_ingest_source_consecutive_failures',
    help: 'Failed polls in a row per source (0 when it answers)',
    labelNames: ['source'],
    registers: [registry],
  });
  const lastSuccess = new client.Gauge({
    name: 'news_ingest_source_last_success_seconds',
    help: 'Unix time of the last poll that answered',
    labelNames: ['source'],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'news_ingest_poll_seconds',
    help: 'Time per poll (fetch, parse and apply)',
    labelNames: ['source'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  // Every source's series exist from the start; the names come from configuration, never from a caller.
  for (const { name } of sources) {
    failures.set({ source: name }, 0);
    for (const outcome of ['ok', 'not_modified', 'http_error', 'timeout', 'garbage']) polls.inc({ source: name, outcome }, 0);
    for (const outcome of ['new', 'updated', 'duplicate', 'unchanged', 'malformed']) items.inc({ source: name, outcome }, 0);
  }
  return {
    items,
    published,
    polled(source: string, outcome: PollOutcome, seconds: number, consecutiveFailures: number) {
      polls.inc({ source, outcome });
      duration.observe({ source }, seconds);
      failures.set({ source }, consecutiveFailures);
      if (outcome === 'ok' || outcome === 'not_modified') lastSuccess.set({ source }, Date.now() / 1000);
    },
  };
}
