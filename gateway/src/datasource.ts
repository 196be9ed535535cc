import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '@analytica/errors';

/** What the gateway passes to a subgraph fetch: the caller's token and the request id. */
export interface ForwardedContext {
  authorization?: string;
  requestId?: string;
}

/** Forwards the caller's token and request id: every subgraph verifies the token again. */
class SubgraphSource extends RemoteGraphQLDataSource<ForwardedContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<ForwardedContext>) {
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

export function createSubgraphSource(name: string, url: string, timeoutMs: number) {
  return new SubgraphSource({ url, fetcher: subgraphFetcher(name, timeoutMs) as never });
}
