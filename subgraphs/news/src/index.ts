import { verifierFromEnv } from '@analytica/auth';
import { dynamoFromEnv } from '@analytica/dynamo';
import { busFromEnv, startConsumerWithRetries, type EventBus } from '@analytica/events';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { createRedis, type Redis } from '@analytica/redis';
import { createLivePublisher } from '@analytica/redis/live';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { articlesTable, ingestArticleBundle, readArticleBundle } from './articles/articles.js';
import { contentRoutes } from './content/content.js';
import { articleImagesTable, consumeArticleImages, drawMissingImages, type ImageStore } from './content/images.js';
import { createEnricher, followSentimentModel } from './enrich/index.js';
import { auditTable, listArticlesHiddenEarlier, type ModerationStore } from './moderation/moderation.js';
import { newsContext, type NewsContext } from './context.js';
import { createSharedFeeds } from './feed/shared-feeds.js';
import type { NewsEnv } from './environment.js';
import { consumePublishedArticles } from './ingest/published.js';
import { startRescoring } from './ingest/rescore.js';
import { interactionLogTable, interactionOutboxTable, startInteractionRelay } from './interactions/events.js';
import { userArticlesTable } from './interactions/interactions.js';
import { renewHeadlines } from './quotes/quotes.graphql.js';
import { buildNewsSchema } from './schema.js';

export { newsEnvShape, parseNewsEnv, type NewsEnv } from './environment.js';

export interface Dependencies {
  /** The embedded runner's local event log instead of Kafka (`news.published.v1`, `user.interactions.v1`); not closed here. */
  bus?: EventBus;
  /** A client for the live notices; not closed here. */
  redis?: Redis;
}

/**
 * Starts the news service: articles by topic and symbol, and each reader's saves and likes; with
 * NEWS_CONSUME_PUBLISHED, the articles news-ingest publishes too, announced on `Quote.<symbol>`.
 */
export async function startNewsService(env: NewsEnv, deps: Dependencies = {}) {
  const logger = createLogger('news', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const dynamo = await resources.open(
    'dynamodb',
    () => dynamoFromEnv(env),
    (d) => d.close(),
  );
  const interactionOutbox = `${env.DYNAMODB_TABLE_PREFIX}news_interaction_outbox`;
  const interactionLog = `${env.DYNAMODB_TABLE_PREFIX}news_interaction_log`;
  const images: ImageStore = { dynamo, imagesTable: `${env.DYNAMODB_TABLE_PREFIX}article_images` };
  const store: ModerationStore = {
    dynamo,
    articlesTable: `${env.DYNAMODB_TABLE_PREFIX}articles`,
    userArticlesTable: `${env.DYNAMODB_TABLE_PREFIX}user_articles`,
    auditTable: `${env.DYNAMODB_TABLE_PREFIX}news_audit`,
  };
  // The sentiment model (the registry's active version, else the bundled one) and news-ingest's enrichment, for the bundled articles.
  // A new active version re-scores every article (ingest/rescore.ts), in the background.
  let onModelChange = () => {};
  const sentiment = await resources.open(
    'sentiment model',
    () => followSentimentModel({ env, logger, onChange: () => onModelChange() }),
    (source) => source.stop(),
  );
  const enricher = createEnricher((await readReferenceFile()).instruments, sentiment.current);
  const rescoring = await resources.open(
    're-scoring',
    () => startRescoring(store, enricher, logger),
    (r) => r.stop(),
  );
  onModelChange = () => rescoring.trigger();
  await resources.run('bundled articles', async () => {
    await dynamo.ensureTable(articlesTable(store.articlesTable));
    await dynamo.ensureTable(userArticlesTable(store.userArticlesTable));
    await dynamo.ensureTable(auditTable(store.auditTable));
    await dynamo.ensureTable(interactionOutboxTable(interactionOutbox));
    await dynamo.ensureTable(interactionLogTable(interactionLog));
    await dynamo.ensureTable(articleImagesTable(images.imagesTable));
    const bundle = await readArticleBundle();
    const outcome = await ingestArticleBundle(store, bundle, enricher);
    logger.info({ version: bundle.version, outcome, articles: bundle.articles.length, sentimentModel: enricher.modelVersion }, 'bundled articles ready');
    // The bundle brings no pictures: each bundled article gets a drawn one, once (content/images.ts).
    const drawn = await drawMissingImages(
      images,
      bundle.articles.map((a) => a.id),
    );
    if (drawn) logger.info({ drawn }, 'images drawn for bundled articles');
    // Once per table: articles hidden before the list of hidden articles (hiddenArticles) existed join it.
    const listed = await listArticlesHiddenEarlier(store);
    if (listed !== null) logger.info({ listed }, 'articles hidden earlier put on the list of hidden articles');
    // Catches up with a model change while the service was down, or a run cut short (a no-op read otherwise).
    rescoring.trigger();
  });

  // Live notices on Quote.<symbol>: a stored article (the consumer) or a hidden or restored one (moderation) changes latestHeadline.
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () => createRedis(env.REDIS_URL, { keyPrefix: env.REDIS_KEY_PREFIX, name: 'news', onError: (err) => logger.warn({ err }, 'redis connection error') }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  const live = createLivePublisher(redis, env.REDIS_KEY_PREFIX);

  // Kafka connects on first use: a broker that is down holds up neither the start nor a mutation (events.ts).
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'news', logger),
      (b) => b.close(),
    ));
  const interactionEvents = await resources.open(
    'user.interactions.v1 relay',
    () => startInteractionRelay({ dynamo, outboxTable: interactionOutbox, logTable: interactionLog, region: env.NEWS_REGION, bus, logger }),
    (r) => r.stop(),
  );

  if (env.NEWS_CONSUME_PUBLISHED) {
    await resources.open(
      'article images consumer',
      () =>
        startConsumerWithRetries('news.published.v1 images consumer', logger, () => consumeArticleImages({ bus, images, groupId: `${env.NEWS_CONSUMER_GROUP}.images`, logger })),
      (c) => c.stop(),
    );
  }
  if (env.NEWS_CONSUME_PUBLISHED) {
    await resources.open(
      'published articles consumer',
      () =>
        startConsumerWithRetries('news.published.v1 consumer', logger, () =>
          consumePublishedArticles({
            bus,
            store,
            groupId: env.NEWS_CONSUMER_GROUP,
            logger,
            live,
            enricher,
            onStored: (symbols) => renewHeadlines(symbols, store, logger),
          }),
        ),
      (c) => c.stop(),
    );
  }

  const feeds = createSharedFeeds(store, { freshMs: env.NEWS_FEED_CACHE_MS });
  const service = createSubgraphService<NewsContext>({
    name: 'news',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    schema: await resources.run('schema', buildNewsSchema),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    access: env,
    readiness: { dynamodb: dynamo.ping },
    context: (base) => newsContext(base, store, feeds, interactionEvents, images, live),
    routes: (app) => contentRoutes(app, store, logger, images),
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return {
    ...running,
    /** Resolves when no re-scoring run is going (the catch-up at start included): tests that store articles scored by another model wait for it. */
    rescoringIdle: () => rescoring.idle(),
  };
}
