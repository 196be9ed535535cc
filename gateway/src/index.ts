import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError } from 'graphql';
import { authenticate, verifierFromEnv, type AuthUser } from '@analytica/auth';
import { ErrorCode, formatError } from '@analytica/errors';
import { createLogger, type Logger } from '@analytica/logger';
import { createHttpService, refuseBadTokens } from '@analytica/service';
import type { GatewayEnv } from './environment.js';
import { supergraphFromFile } from './supergraph.js';

export { gatewayEnvShape, parseGatewayEnv, type GatewayEnv } from './environment.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface GatewayContext {
  user: AuthUser | null;
  authorization?: string;
  requestId: string;
  log: Logger;
  authError?: GraphQLError;
}

/** Forwards the caller's token and request id: every subgraph verifies the token again. */
class SubgraphSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if ('authorization' in context && context.authorization) request.http?.headers.set('authorization', context.authorization);
    if ('requestId' in context && context.requestId) request.http?.headers.set('x-request-id', context.requestId);
  }
}

/**
 * Fetches from one subgraph with a time limit. A subgraph that cannot be reached leaves its fields
 * null; the error names the service, in words a client can show, instead of a socket error.
 */
function subgraphFetcher(serviceName: string, timeoutMs: number) {
  return async (input: string, init?: RequestInit) => {
    try {
      // Node's fetch keeps connections to each subgraph alive between requests.
      return await fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new GraphQLError(
        timedOut
          ? `The ${serviceName} service did not answer within ${timeoutMs} ms; its fields are missing from this response.`
          : `The ${serviceName} service is unavailable; its fields are missing from this response.`,
        { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName } },
      );
    }
  };
}

export async function startGateway(env: GatewayEnv) {
  const logger = createLogger('gateway', env.LOG_LEVEL);
  const verifier = verifierFromEnv(env);
  const overrides: Record<string, string | undefined> = {
    user: env.SUBGRAPH_USER_URL,
    budget: env.SUBGRAPH_BUDGET_URL,
    market: env.SUBGRAPH_MARKET_URL,
    news: env.SUBGRAPH_NEWS_URL,
    payment: env.SUBGRAPH_PAYMENT_URL,
    insight: env.SUBGRAPH_INSIGHT_URL,
  };
  const timeoutMs = env.SUBGRAPH_TIMEOUT_MS;
  const production = env.NODE_ENV === 'production';
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile(path.resolve(repoRoot, env.SUPERGRAPH_PATH), { watch: env.SUPERGRAPH_WATCH, logger }),
    buildService: ({ name, url }) =>
      new SubgraphSource({
        url: overrides[name] ?? url,
        fetcher: subgraphFetcher(name, timeoutMs) as never,
      }),
    logger,
  });
  let schemaLoaded = false;
  gateway.onSchemaLoadOrUpdate(() => {
    schemaLoaded = true;
  });

  const service = createHttpService<GatewayContext>({
    name: 'gateway',
    host: env.HOST,
    port: env.PORT,
    logger,
    readiness: {
      supergraph: async () => {
        if (!schemaLoaded) throw new Error('supergraph not loaded yet');
      },
    },
    graphql: {
      server: (plugins) =>
        new ApolloServer<GatewayContext>({
          gateway,
          introspection: !production,
          includeStacktraceInErrorResponses: false,
          stopOnTerminationSignals: false,
          // Field suggestions ("Did you mean ...?") reveal the schema; off in production.
          hideSchemaDetailsFromClientErrors: production,
          formatError: (formatted) =>
            formatError(formatted, {
              exposeDetails: env.NODE_ENV === 'development',
              onInternal: (error) => logger.error({ error }, 'internal error'),
            }),
          plugins: [...plugins, refuseBadTokens(), ...(production ? [ApolloServerPluginLandingPageDisabled()] : [])],
        }),
      context: async (req, requestId, log) => {
        const authorization = req.headers.authorization;
        const { user, error } = await authenticate(authorization, verifier);
        return { user, authorization, requestId, log, authError: error };
      },
    },
  });
  return service.start();
}
