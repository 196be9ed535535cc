import cluster from 'node:cluster';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloGateway } from '@apollo/gateway';
import { createSubgraphSource } from './datasource.js';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLError } from 'graphql';
import { authenticate, verifierFromEnv, type AuthUser } from '@analytica/auth';
import { formatError } from '@analytica/errors';
import { createLogger, type Logger } from '@analytica/logger';
import { createRedis, redisBudgetFromEnv } from '@analytica/redis';
import { createHttpService, lifecycle, refuseBadTokens } from '@analytica/service';
import type { GatewayEnv } from './environment.js';
import { queryLimits } from './query-limits.js';
import { numericLiteralLimits } from './input-limits.js';
import { authenticationOf, createRequestBudget, retryAfterFromErrors } from './request-budget.js';
import { supergraphFromFile } from './supergraph.js';
import { answerNotesOf, shareIdenticalQueries, shareIdenticalRequests, type AnswerNotes } from './share-queries.js';
import { withCacheHints } from './cache-hints.js';
import { supergraphFromRegistry } from './registry-source.js';
import { installResultShaping } from './result-shaping.js';
import { createUsageReporter } from './usage.js';
import { createSubscriptions } from './subscriptions/index.js';
import { startPartnerAccess } from './partners/index.js';
import { forwardTokenRequests } from './partners/token-endpoint.js';
import { originPolicy, originRefusalBody, ORIGIN_REFUSAL } from './cors.js';
import { ideRoutes } from './ide/index.js';
import { consoleRoutes } from './console.js';
import { budgetUrlOf, forwardUploads } from './uploads.js';
import client from 'prom-client';

export { gatewayEnvShape, parseGatewayEnv, type GatewayEnv } from './environment.js';
export { createUsageReporter, describeOperation } from './usage.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface GatewayContext {
  user: AuthUser | null;
  authorization?: string;
  requestId: string;
  log: Logger;
  authError?: GraphQLError;
  /** The caller's address (TRUST_PROXY decides whether X-Forwarded-For is believed); forwarded to subgraphs. */
  clientIp: string;
  /** Set when identical requests wait for this one's answer (share-queries.ts). */
  answerNotes?: AnswerNotes;
}

export async function startGateway(env: GatewayEnv) {
  const logger = createLogger('gateway', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  // The executor's last step, shaping the merged answer, done by result-shaping.ts (a fifth of the CPU of a deep query with Apollo's).
  installResultShaping(logger);
  // One connection for revocation checks, the request budget and partner quotas, all within the
  // Redis budget (timeouts, circuit breaker: docs/ARCHITECTURE.md, "Dependency outages").
  const redis = await resources.open(
    'redis',
    () =>
      createRedis(env.REDIS_URL, {
        keyPrefix: env.REDIS_KEY_PREFIX,
        name: 'gateway',
        budget: redisBudgetFromEnv(env),
        onError: (err) => logger.warn({ err }, 'redis connection error'),
        onCircuit: (change) => logger.warn(change.state === 'open' ? { err: change.cause } : { openForMs: change.openForMs }, `redis circuit ${change.state}`),
      }),
    (r) => r.quit().catch(() => r.disconnect()),
  );
  // Its own connection for revocation notices (packages/auth revocation-cache.ts) closes with it.
  const verifier = await resources.open(
    'token verifier',
    () => verifierFromEnv(env, { redis }),
    (v) => v.close(),
  );
  const limits = queryLimits(env);
  // One request budget for HTTP, SSE and WebSocket operations alike.
  const budget = createRequestBudget({ redis, verifier, logger, perUserPerMinute: env.RATE_LIMIT_USER_PER_MINUTE, perIpPerMinute: env.RATE_LIMIT_IP_PER_MINUTE });
  const overrides: Record<string, string | undefined> = {
    user: env.SUBGRAPH_USER_URL,
    budget: env.SUBGRAPH_BUDGET_URL,
    market: env.SUBGRAPH_MARKET_URL,
    news: env.SUBGRAPH_NEWS_URL,
    payment: env.SUBGRAPH_PAYMENT_URL,
    insight: env.SUBGRAPH_INSIGHT_URL,
  };
  const timeoutMs = env.SUBGRAPH_TIMEOUT_MS;
  const registry = new client.Registry();
  const sharedRequests = new client.Counter({
    name: 'gateway_requests_shared_total',
    help: 'Requests answered with the answer of an identical request already in flight for the same caller (GATEWAY_DEDUPLICATE)',
    registers: [registry],
  });
  const sharedExecutions = new client.Counter({
    name: 'gateway_executions_shared_total',
    help: 'Queries answered by an identical execution already in flight for the same caller (GATEWAY_DEDUPLICATE)',
    registers: [registry],
  });
  const mergedFetches = new client.Counter({
    name: 'gateway_subgraph_fetches_merged_total',
    help: 'Subgraph queries of one request sent together as one query (GATEWAY_MERGE_FETCHES), by subgraph',
    labelNames: ['subgraph'],
    registers: [registry],
  });
  const sharedFetches = new client.Counter({
    name: 'gateway_subgraph_fetches_shared_total',
    help: 'Subgraph queries answered by an identical call already in flight for the same caller, by subgraph',
    labelNames: ['subgraph'],
    registers: [registry],
  });
  const production = env.NODE_ENV === 'production';
  // One Origin check for HTTP, SSE and WebSocket (GATEWAY_CORS_ORIGINS).
  const origins = originPolicy({ origins: env.GATEWAY_CORS_ORIGINS, maxAgeSeconds: env.GATEWAY_CORS_MAX_AGE_SECONDS });
  const gateway = new ApolloGateway({
    // From the schema registry when SUPERGRAPH_URL is set (the file is then the fallback at start).
    supergraphSdl: env.SUPERGRAPH_URL
      ? supergraphFromRegistry({
          url: env.SUPERGRAPH_URL,
          token: env.REGISTRY_TOKEN,
          pollSeconds: env.SUPERGRAPH_POLL_SECONDS,
          fallbackPath: path.resolve(repoRoot, env.SUPERGRAPH_PATH),
          // Each of several processes (GATEWAY_PROCESSES) is an instance of its own: they poll apart.
          instanceId: `${env.GATEWAY_INSTANCE_ID ?? `${hostname()}:${env.PORT}`}${cluster.isWorker ? `/${cluster.worker!.id}` : ''}`,
          logger,
        })
      : supergraphFromFile(path.resolve(repoRoot, env.SUPERGRAPH_PATH), { watch: env.SUPERGRAPH_WATCH, logger }),
    buildService: ({ name, url }) =>
      createSubgraphSource(name, overrides[name] ?? url ?? '', timeoutMs, {
        deduplicate: env.GATEWAY_DEDUPLICATE,
        onShared: () => sharedFetches.inc({ subgraph: name }),
        merge: env.GATEWAY_MERGE_FETCHES,
        onMerged: (fetches) => mergedFetches.inc({ subgraph: name }, fetches),
        signingKey: env.SUBGRAPH_SIGNING_KEY,
      }),
    logger,
  });
  const usage = env.USAGE_REPORT_URL
    ? await resources.open(
        'usage reporting',
        () => createUsageReporter({ url: env.USAGE_REPORT_URL!, token: env.REGISTRY_TOKEN, flushSeconds: env.USAGE_FLUSH_SECONDS, logger, registry }),
        (u) => u.stop(),
      )
    : undefined;
  const partners = await resources.open(
    'partner access',
    () =>
      startPartnerAccess({
        registryUrl: env.REGISTRY_URL?.replace(/\/+$/, ''),
        registryToken: env.REGISTRY_TOKEN,
        pollSeconds: env.SUPERGRAPH_POLL_SECONDS,
        redis,
        logger,
        maxTokens: env.GRAPHQL_MAX_TOKENS,
        bodyLimitBytes: env.MAX_BODY_BYTES,
      }),
    (p) => p.stop(),
  );
  const subscriptions = await resources.open(
    'subscriptions',
    () =>
      createSubscriptions({
        path: '/graphql',
        redisUrl: env.REDIS_URL,
        channelPrefix: env.REDIS_KEY_PREFIX,
        subgraphTimeoutMs: timeoutMs,
        subgraphSigningKey: env.SUBGRAPH_SIGNING_KEY,
        urlOverrides: overrides,
        verifier,
        logger,
        registry,
        recheckMs: env.SUBSCRIPTION_RECHECK_SECONDS * 1000,
        maxBufferedBytes: env.SUBSCRIPTION_MAX_BUFFERED_BYTES,
        slowClientCloseMs: env.SUBSCRIPTION_SLOW_CLIENT_CLOSE_MS,
        admitPartner: partners.admit,
        // Depth, cost, aliases, directives, tokens and body size: the same limits as over HTTP.
        limits: { validationRules: limits.validationRules, maxTokens: env.GRAPHQL_MAX_TOKENS, hideSuggestions: production, bodyLimitBytes: env.MAX_BODY_BYTES },
        spendBudget: budget.spendFor,
        admitOrigin: { admits: origins.admits, refusal: { status: ORIGIN_REFUSAL.status, body: originRefusalBody() } },
      }),
    (s) => s.close(),
  );
  let schemaLoaded = false;
  let budgetUrl = env.SUBGRAPH_BUDGET_URL;
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    subscriptions.onSupergraph(coreSupergraphSdl);
    budgetUrl = env.SUBGRAPH_BUDGET_URL ?? budgetUrlOf(coreSupergraphSdl);
    schemaLoaded = true;
  });

  const service = createHttpService<GatewayContext>({
    name: 'gateway',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    registry,
    readiness: {
      supergraph: async () => {
        if (!schemaLoaded) throw new Error('supergraph not loaded yet');
      },
      redis: subscriptions.ping,
    },
    bodyLimitBytes: env.MAX_BODY_BYTES,
    routes: (app) => {
      app.set('trust proxy', env.TRUST_PROXY);
      // CORS first: a preflight is answered before any budget is spent, an unlisted origin refused.
      app.use('/graphql', origins.middleware);
      // GET /graphql from a browser: the bundled GraphiQL (or 404 when GATEWAY_IDE is off).
      ideRoutes(app, { enabled: env.GATEWAY_IDE, logger });
      // The admin console's pages (GATEWAY_CONSOLE_DIR); their data comes from /graphql like any client's.
      if (env.GATEWAY_CONSOLE_DIR) consoleRoutes(app, { dir: env.GATEWAY_CONSOLE_DIR });
      app.use('/graphql', budget.middleware, partners.middleware);
      if (env.GATEWAY_DEDUPLICATE) {
        app.use(
          '/graphql',
          shareIdenticalRequests({
            bodyLimitBytes: env.MAX_BODY_BYTES,
            onShared: (req, notes, startedAt) => {
              sharedRequests.inc();
              usage?.recordShared({ user: authenticationOf(req)?.user }, (name) => req.get(name), notes, performance.now() - startedAt);
            },
          }),
        );
      }
      // Statement files to their upload URL, streamed to the budget service (startStatementUpload).
      app.put(
        '/uploads/statements/:id',
        origins.middleware,
        budget.middleware,
        forwardUploads(() => budgetUrl, logger),
      );
      app.options('/uploads/statements/:id', origins.middleware);
      // Partner apps get their tokens from the one endpoint too (the user service issues them).
      app.post('/oauth/token', budget.middleware, ...forwardTokenRequests(env.OAUTH_TOKEN_URL ?? new URL('/oauth/token', env.JWKS_URL).toString(), logger));
      subscriptions.routes(app);
    },
    onListening: subscriptions.onListening,
    beforeDrain: subscriptions.beforeDrain,
    onStop: resources.closeAll,
    graphql: {
      server: (plugins) =>
        new ApolloServer<GatewayContext>({
          // Cache-Control from the subgraphs' hints (cache-hints.ts), through the sharing of identical executions.
          gateway: withCacheHints(gateway, (g) => (env.GATEWAY_DEDUPLICATE ? shareIdenticalQueries(g, { onShared: () => sharedExecutions.inc() }) : g), {
            cdnVerifiesTokens: env.CDN_VERIFIES_TOKENS,
          }),
          introspection: !production,
          includeStacktraceInErrorResponses: false,
          stopOnTerminationSignals: false,
          // Field suggestions ("Did you mean ...?") reveal the schema; off in production.
          hideSchemaDetailsFromClientErrors: production,
          validationRules: limits.validationRules,
          parseOptions: limits.parseOptions,
          // Unexpected errors are generic with the request id in every environment (packages/errors).
          formatError: (formatted, cause) =>
            formatError(formatted, {
              cause,
              onInternal: (error, { requestId }) => logger.error({ err: cause, requestId, path: error.path }, 'internal error'),
            }),
          plugins: [
            ...plugins,
            ...(limits.plugins as ApolloServerPlugin<GatewayContext>[]),
            // Sign-in operations ignore a bad header and do not forward it (packages/service SIGN_IN_FIELDS).
            refuseBadTokens<GatewayContext>({
              onSignIn: (context) => {
                context.authorization = undefined;
              },
            }),
            numericLiteralLimits(),
            retryAfterFromErrors,
            ...(usage ? [usage.plugin as ApolloServerPlugin<GatewayContext>] : []),
            // Never Apollo's landing page (it loads Sandbox from a CDN): the IDE is ours (ide/index.ts).
            ApolloServerPluginLandingPageDisabled(),
          ],
        }),
      context: async (req, requestId, log) => {
        const authorization = req.headers.authorization;
        const { user, error } = authenticationOf(req) ?? (await authenticate(authorization, verifier));
        return { user, authorization, requestId, log, authError: error, clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown', answerNotes: answerNotesOf(req) };
      },
    },
  });
  return resources.run('http server', () => service.start());
}
