import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '@analytica/errors';

/** What the gateway passes to a subgraph fetch: the caller's token and the request id. */
export interface ForwardedContext {
  authorization?: string;
  requestId?: string;
  /** The caller's address: the user service limits sign-in attempts per address. */
  clientIp?: string;
}

/** Forwards the caller's token and request id: every subgraph verifies the token again. */
class SubgraphSource extends RemoteGraphQLDataSource<ForwardedContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<ForwardedContext>) {
    if ('authorization' in context && context.authorization) request.http?.headers.set('authorization', context.authorization);
    if ('requestId' in context && context.requestId) request.http?.headers.set('x-request-id', context.requestId);
    // Replaces whatever the client sent: only the address the gateway saw (or trusted) goes on.
    if ('clientIp' in context && context.clientIp) request.http?.headers.set('x-forwarded-for', context.clientIp);
  }

  /**
   * A subgraph answers some refusals with an HTTP error status (400 for variables that do not
   * coerce, 401 for a revoked token) and a GraphQL body. Pass its error on, code and field
   * included, rather than a bare "400: Bad Request".
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]) {
    const error = await super.errorFromResponse(response);
    const body = (error.extensions?.response as { body?: { errors?: { message?: string; extensions?: Record<string, unknown> }[] } } | undefined)?.body;
    const first = body?.errors?.[0];
    if (typeof first?.message === 'string' && typeof first.extensions?.code === 'string') {
      return new GraphQLError(first.message, { extensions: { ...first.extensions } });
    }
    return error;
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

export function createSubgraphSource(name: string, url: string, timeoutMs: number) {
  return new SubgraphSource({ url, fetcher: subgraphFetcher(name, timeoutMs) as never });
}
