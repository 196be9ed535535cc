import { verifierFromEnv } from '@analytica/auth';
import { createDynamo } from '@analytica/dynamo';
import type { EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { articlesTable, ingestArticleBundle, readArticleBundle, type ArticleStore } from './articles/articles.js';
import { newsContext, type NewsContext } from './context.js';
import type { NewsEnv } from './environment.js';
import { userArticlesTable } from './interactions/interactions.js';
import { buildNewsSchema } from './schema.js';

export { newsEnvShape, parseNewsEnv, type NewsEnv } from './environment.js';

export interface Dependencies {
  /** Accepted from the embedded runner for the interaction events of a later issue; nothing is published yet. */
  bus?: EventBus;
}

/** Starts the news service: articles by topic and symbol, and each reader's saves and likes. */
export async function startNewsService(env: NewsEnv, _deps: Dependencies = {}) {
  const logger = createLogger('news', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const dynamo = await resources.open(
    'dynamodb',
    () => createDynamo({ endpoint: env.DYNAMODB_ENDPOINT, region: env.DYNAMODB_REGION }),
    (d) => d.close(),
  );
  const store: ArticleStore = {
    dynamo,
    articlesTable: `${env.DYNAMODB_TABLE_PREFIX}articles`,
    userArticlesTable: `${env.DYNAMODB_TABLE_PREFIX}user_articles`,
  };
  await resources.run('bundled articles', async () => {
    await dynamo.ensureTable(articlesTable(store.articlesTable));
    await dynamo.ensureTable(userArticlesTable(store.userArticlesTable));
    const bundle = await readArticleBundle();
    const outcome = await ingestArticleBundle(store, bundle);
    logger.info({ version: bundle.version, outcome, articles: bundle.articles.length }, 'bundled articles ready');
  });

  const service = createSubgraphService<NewsContext>({
    name: 'news',
    host: env.HOST,
    port: env.PORT,
    logger,
    schema: await resources.run('schema', buildNewsSchema),
    verifier: verifierFromEnv(env),
    exposeErrorDetails: env.NODE_ENV === 'development',
    readiness: { dynamodb: dynamo.ping },
    context: (base) => newsContext(base, store),
    onStop: resources.closeAll,
  });
  return resources.run('http server', () => service.start());
}
