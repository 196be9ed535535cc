import type { GatewayCacheHint, GatewayCachePolicy, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';

/**
 * Cache hints for a CDN in front of the gateway (issue 14).
 *
 * Each subgraph answers with the `Cache-Control` Apollo's cache-control plugin computed from its
 * fields' hints (the news subgraph marks `articles` and `article` public for 30 s; a field without a
 * hint makes its answer `no-store`). The gateway restricts the operation's policy by every subgraph
 * answer it fetched for it: the smallest max-age, `private` if any is private, and max-age 0 for an
 * answer without the header or with one it cannot read. Apollo Server's own cache-control plugin
 * then writes the header: `max-age=N, public|private` only when the policy is cacheable and the
 * answer has no errors, else `no-store`. So anything not shown cacheable stays `no-store`: an
 * operation that fetched nothing, a mutation (also refused here outright), a `me` field (the user
 * subgraph gives no hints), a field about the caller (savedByMe, likedByMe), an error.
 *
 * `public` needs one more thing: every operation carries an access token, so an answer may be shared
 * between callers only by a CDN that checks tokens itself (CDN_VERIFIES_TOKENS); without it, an answer
 * to a request with a token is at most `private` (the caller's browser may keep it).
 *
 * The same rules as RemoteGraphQLDataSource's `honorSubgraphCacheControlHeader`, which our own
 * data source (datasource.ts) replaces.
 */

/** What a `Cache-Control` header of a subgraph answer allows, as a hint to restrict the operation's policy by. */
export function hintFromCacheControl(header: string | undefined | null): GatewayCacheHint {
  const hint: GatewayCacheHint = { maxAge: 0 };
  if (!header) return hint;
  const directives = new Map<string, string | true>();
  for (const part of header.trim().split(/\s*,\s*/)) {
    const [name, value] = part.split(/\s*=\s*/, 2);
    if (name) directives.set(name.toLowerCase(), value === undefined ? true : value.replace(/^"|"$/g, ''));
  }
  if (directives.has('no-store') || directives.has('no-cache')) return hint;
  const maxAge = directives.get('max-age');
  if (typeof maxAge === 'string' && /^\d{1,9}$/.test(maxAge)) hint.maxAge = Number(maxAge);
  if (directives.has('private')) hint.scope = 'PRIVATE';
  else if (directives.has('public')) hint.scope = 'PUBLIC';
  return hint;
}

/**
 * The policy of the client's operation a subgraph fetch belongs to: the `incomingRequestContext` of
 * the data source's process options (none for the gateway's own health checks).
 */
function policyOf(options: object): GatewayCachePolicy | undefined {
  const incoming = (options as { incomingRequestContext?: { overallCachePolicy?: GatewayCachePolicy } }).incomingRequestContext;
  const policy = incoming?.overallCachePolicy;
  return policy && typeof policy.restrict === 'function' ? policy : undefined;
}

/** Called by the data source with each subgraph answer's `Cache-Control` (undefined: none). */
export function restrictBySubgraphAnswer(options: object, cacheControl: string | undefined): void {
  policyOf(options)?.restrict(hintFromCacheControl(cacheControl));
}

/** The policy an execution arrived at, carried on its result to the requests that share it. */
const POLICY = Symbol('cache policy');
type ResultWithPolicy = Awaited<ReturnType<GatewayExecutor>> & { [POLICY]?: GatewayCacheHint };

function wrapExecutor(gateway: GatewayInterface, wrap: (execute: GatewayExecutor) => GatewayExecutor): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(loadOptions) {
      const loaded = await gateway.load(loadOptions);
      return { ...loaded, executor: loaded.executor && wrap(loaded.executor) };
    },
  };
}

/**
 * Puts the cache policy through the gateway's sharing of identical executions (share-queries.ts):
 * the subgraph answers restrict the policy of the request whose execution ran, so the executions
 * are wrapped twice. Inside the sharing, the policy the execution arrived at is kept on its result
 * (mutations and subscriptions: max-age 0); outside, every request that got that result, its own
 * or a shared one, restricts its own policy by it. A result without it is max-age 0.
 * (Whole HTTP answers shared by shareIdenticalRequests replay their `cache-control`: the same
 * body with the same Authorization and Accept, so the same policy.)
 */
export function withCacheHints(
  gateway: GatewayInterface,
  share: (gateway: GatewayInterface) => GatewayInterface = (g) => g,
  options: { cdnVerifiesTokens?: boolean } = {},
): GatewayInterface {
  const measured = wrapExecutor(gateway, (execute) => async (requestContext: GatewayGraphQLRequestContext) => {
    const policy = requestContext.overallCachePolicy as GatewayCachePolicy;
    if (requestContext.operation?.operation !== 'query') policy.restrict({ maxAge: 0 });
    const result = (await execute(requestContext)) as ResultWithPolicy;
    if (result && typeof result === 'object') result[POLICY] = { maxAge: policy.maxAge, scope: policy.scope };
    return result;
  });
  return wrapExecutor(share(measured), (execute) => async (requestContext: GatewayGraphQLRequestContext) => {
    const result = (await execute(requestContext)) as ResultWithPolicy;
    const policy = requestContext.overallCachePolicy as GatewayCachePolicy;
    policy.restrict(result?.[POLICY] ?? { maxAge: 0 });
    // An answer to a caller with a token is shared between callers only by a CDN that checks
    // tokens itself (CDN_VERIFIES_TOKENS); otherwise at most the caller's own browser keeps it.
    if (!options.cdnVerifiesTokens && requestContext.request.http?.headers.get('authorization')) policy.restrict({ scope: 'PRIVATE' });
    return result;
  });
}
