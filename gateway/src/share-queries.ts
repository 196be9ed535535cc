import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';

/**
 * Identical queries in flight at the same time are executed once, and every caller gets that
 * execution's result: the same document, operation name and variables, sent with the same
 * Authorization header.
 *
 * Why: a screen that many clients open at once (a watchlist, the news front page) sends the same
 * query from every client; planning, fetching and shaping it once is the difference between one
 * execution and hundreds. Why it is safe: the Authorization header is part of the key, so a result
 * is shared only between requests of one token (one session of one user, or anonymous callers, who
 * see only public data), never across users or partners. Each request still passes its own token
 * check, rate limit and contract check before it gets here; only the execution is shared. Mutations
 * and subscriptions never are. Subgraph fetches are shared the same way one level down
 * (datasource.ts), for queries that differ but need the same data.
 */
export function shareIdenticalQueries(gateway: GatewayInterface, options: { onShared?: () => void } = {}): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(loadOptions) {
      const loaded = await gateway.load(loadOptions);
      return { ...loaded, executor: loaded.executor && shareExecutions(loaded.executor, options.onShared) };
    },
  };
}

function shareExecutions(execute: GatewayExecutor, onShared?: () => void): GatewayExecutor {
  const inFlight = new Map<string, ReturnType<GatewayExecutor>>();
  return (requestContext) => {
    if (requestContext.operation?.operation !== 'query') return execute(requestContext);
    const { request, queryHash } = requestContext;
    const authorization = (requestContext.context as { authorization?: string }).authorization ?? '';
    const key = `${authorization}\n${queryHash}\n${request.operationName ?? ''}\n${request.variables ? JSON.stringify(request.variables) : ''}`;
    const pending = inFlight.get(key);
    if (pending) {
      onShared?.();
      return pending;
    }
    const execution = execute(requestContext).finally(() => inFlight.delete(key));
    inFlight.set(key, execution);
    return execution;
  };
}
