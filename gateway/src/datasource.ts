import { Pool, type Dispatcher } from 'undici';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '@analytica/errors';
import { SIGNATURE_HEADER, signRequest } from '@analytica/service';
import { traceHeaders } from '@analytica/telemetry';
import { mergeFetches, type PlannedFetch } from './merge-fetches.js';
import { restrictBySubgraphAnswer } from './cache-hints.js';

/** What the gateway passes to a subgraph fetch: the caller's token and the request id. */
export interface ForwardedContext {
  authorization?: string;
  requestId?: string;
  /** The caller's address: the user service limits sign-in attempts per address. */
  clientIp?: string;
}

interface SubgraphAnswer {
  status: number;
  statusText: string;
  contentType: string;
  /** The subgraph's Cache-Control (cache-hints.ts). */
  cacheControl?: string;
  text: string;
}

/** Only a query can be shared between callers; the executor prints each fetch with its keyword (or `{`). */
const isQuery = (document: string) => /^\s*(query\b|\{)/.test(document);

interface SubgraphResponseBody {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/**
 * The gateway's client for one subgraph: a JSON POST over a pool of kept-alive connections
 * (undici's lowest-level `dispatch`), with a time limit.
 *
 * Why not Apollo's RemoteGraphQLDataSource over Node's `fetch`: every subgraph call of every query
 * and every subscription event passes here, and measured on this machine (bench/subscriptions,
 * issue 10) that path cost the gateway 1.4-2.2 ms of CPU per call (undici, web streams, a node-fetch
 * Request per call, an AbortSignal per call), against 0.5-0.7 ms for a plain `node:http` request on
 * a keep-alive agent (issue 18: about 100 µs of client CPU per small call on a quiet machine), and
 * about 45 µs for undici's `Pool.dispatch` with a handler object, which hands over the answer's
 * chunks without streams or a promise per chunk. The behaviour is the one RemoteGraphQLDataSource had here: the caller's token,
 * request id and address go on, a refusal the subgraph sends with an HTTP error status reaches the
 * client with its code, and a subgraph that cannot be reached or does not answer in time leaves its
 * fields null with SERVICE_UNAVAILABLE naming it.
 */
export function createSubgraphSource(
  serviceName: string,
  url: string,
  timeoutMs: number,
  options: {
    deduplicate?: boolean;
    onShared?: () => void;
    merge?: boolean;
    onMerged?: (fetches: number) => void;
    /** SUBGRAPH_SIGNING_KEY: every request is signed with it (subgraphs refuse unsigned ones, issue 17). */
    signingKey?: string;
  } = {},
): GraphQLDataSource<ForwardedContext> {
  const target = new URL(url);
  const signedPath = target.pathname + target.search;
  const deduplicate = options.deduplicate ?? true;
  const merge = options.merge ?? true;
  /** Queries in flight to this subgraph, by caller and body: see `shared` below. */
  const inFlight = new Map<string, Promise<SubgraphAnswer>>();
  // Connections stay open between calls; under load the pool grows to what is in flight. An idle
  // one is kept as long as the subgraph's Keep-Alive header says (65 s, packages/service) less 2 s,
  // so that the gateway, not the subgraph, closes it and never sends on a closing socket.
  const pool = new Pool(target.origin);
  const unavailable = (timedOut: boolean) =>
    new GraphQLError(
      timedOut
        ? `The ${serviceName} service did not answer within ${timeoutMs} ms; its fields are missing from this response.`
        : `The ${serviceName} service is unavailable; its fields are missing from this response.`,
      { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName } },
    );

  function post(body: string, headers: Record<string, string>): Promise<SubgraphAnswer> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let controller: Dispatcher.DispatchController | undefined;
      const fail = (error: GraphQLError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(unavailable(true));
        // Frees the connection; a call still waiting for one is aborted as soon as it gets one.
        controller?.abort(new Error('timed out'));
      }, timeoutMs);
      let status = 0;
      let statusText = '';
      let answerHeaders: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      pool.dispatch(
        {
          path: signedPath,
          method: 'POST',
          body,
          headers: {
            ...headers,
            // The subgraph's span continues the caller's (Apollo's gateway.fetch, tracing on). Added
            // here, after `shared` keyed the call, so that tracing never stops two callers sharing one.
            ...traceHeaders(),
            'content-type': 'application/json',
            // Signed as it leaves, so that a call shared or queued a while still carries a fresh time.
            ...(options.signingKey ? { [SIGNATURE_HEADER]: signRequest(options.signingKey, { method: 'POST', path: signedPath, body }) } : {}),
          },
        },
        {
          onRequestStart(started) {
            controller = started;
            if (settled) started.abort(new Error('timed out'));
          },
          onResponseStart(_controller, statusCode, responseHeaders, statusMessage) {
            status = statusCode;
            statusText = statusMessage ?? '';
            answerHeaders = responseHeaders;
          },
          onResponseData(_controller, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const cacheControl = answerHeaders['cache-control'];
            resolve({
              status,
              statusText,
              contentType: String(answerHeaders['content-type'] ?? ''),
              cacheControl: Array.isArray(cacheControl) ? cacheControl.join(', ') : cacheControl,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          },
          onResponseError() {
            fail(unavailable(false));
          },
        },
      );
    });
  }

  /**
   * Identical queries in flight at the same time share one subgraph call: the same document and
   * variables, sent with the same Authorization, address and extra headers. The Authorization
   * header is part of the key, so a response is only ever shared between requests of the same
   * token (one session of one user, or anonymous callers, who see only public data); it is never
   * shared across users. Only the request id differs between the callers: the subgraph logs the
   * first one. Each caller parses the shared text itself, because the executor merges into the
   * objects it is given. Mutations are never shared (each one must run).
   */
  function shared(body: string, headers: Record<string, string>): Promise<SubgraphAnswer> {
    const { 'x-request-id': _requestId, ...scope } = headers;
    let key = body;
    for (const name of Object.keys(scope).sort()) key += `\n${name}: ${scope[name]}`;
    const pending = inFlight.get(key);
    if (pending) {
      options.onShared?.();
      return pending;
    }
    const call = post(body, headers).finally(() => inFlight.delete(key));
    inFlight.set(key, call);
    return call;
  }

  /** Sends one query (shared with an identical one in flight when allowed) and reads its answer; `hint` gets its Cache-Control. */
  async function send(body: string, headers: Record<string, string>, shareable: boolean, hint: CacheHintSink): Promise<SubgraphResponseBody> {
    let response: SubgraphAnswer;
    try {
      response = deduplicate && shareable ? await shared(body, headers) : await post(body, headers);
    } catch (error) {
      hint(undefined);
      throw error;
    }
    hint(response.cacheControl);
    const json = /^application\/(graphql-response\+)?json/.test(response.contentType) ? parseJson(response.text) : undefined;
    if (response.status === 401 && /^SIGNATURE_/.test(String((json as SubgraphResponseBody | undefined)?.errors?.[0]?.extensions?.reason ?? ''))) {
      // Not the caller's fault (their token is fine): the gateway's key or clock is off.
      throw new GraphQLError(`The ${serviceName} service refused the gateway's signature; its fields are missing from this response.`, {
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName },
      });
    }
    if (response.status < 200 || response.status > 299) throw errorFromResponse(response, json);
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw new GraphQLError(`The ${serviceName} service sent a response that is not a GraphQL result.`, {
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName },
      });
    }
    return json as SubgraphResponseBody;
  }

  /**
   * The queries one request sends this subgraph in the same turn of the event loop, waiting to go
   * as one (merge-fetches.ts). Keyed by the request's context object: queries of different
   * requests are never merged, so nothing of one caller's answer can reach another.
   */
  const waiting = new WeakMap<object, Waiting[]>();
  function enqueue(context: object, fetch: PlannedFetch, headers: Record<string, string>, hint: CacheHintSink): Promise<SubgraphResponseBody> {
    return new Promise((resolve, reject) => {
      const batch = waiting.get(context);
      if (batch) return void batch.push({ fetch, headers, hint, resolve, reject });
      waiting.set(context, [{ fetch, headers, hint, resolve, reject }]);
      // setImmediate, not a microtask: the fetches of a plan's parallel branches, and the ones that
      // become ready when answers arrive in the same poll phase, all join before it runs.
      setImmediate(() => {
        const queued = waiting.get(context) ?? [];
        waiting.delete(context);
        void flush(queued);
      });
    });
  }
  async function flush(queued: Waiting[]) {
    const merged = queued.length > 1 ? mergeFetches(queued.map((q) => q.fetch)) : undefined;
    if (!merged) {
      for (const q of queued) send(bodyOf(q.fetch), q.headers, true, q.hint).then(q.resolve, q.reject);
      return;
    }
    options.onMerged?.(queued.length);
    try {
      const hint: CacheHintSink = (cacheControl) => queued.forEach((q) => q.hint(cacheControl));
      const result = await send(JSON.stringify({ query: merged.query, variables: merged.variables, operationName: merged.operationName }), queued[0]!.headers, true, hint);
      merged.split(result).forEach((part, i) => queued[i]!.resolve(part));
    } catch (error) {
      for (const q of queued) q.reject(error);
    }
  }

  return {
    async process(options: GraphQLDataSourceProcessOptions<ForwardedContext>) {
      const { request, context } = options;
      if (!request.query) throw new Error('Missing query');
      const headers: Record<string, string> = {};
      // Headers the gateway's executor itself adds (e.g. a trace request).
      for (const [name, value] of request.http?.headers ?? []) headers[name] = value;
      if (context?.authorization) headers.authorization = context.authorization;
      if (context?.requestId) headers['x-request-id'] = context.requestId;
      // Replaces whatever the client sent: only the address the gateway saw (or trusted) goes on.
      if (context?.clientIp) headers['x-forwarded-for'] = context.clientIp;
      const fetch: PlannedFetch & { operationName?: string; extensions?: Record<string, unknown> } = {
        query: request.query,
        variables: request.variables,
        operationName: request.operationName,
        extensions: request.extensions,
      };
      const query = isQuery(request.query);
      const hint: CacheHintSink = (cacheControl) => restrictBySubgraphAnswer(options, cacheControl);
      // Only queries are merged (mutations run one after another, in order) and only fetches of one request.
      const answer = merge && query && context && !request.extensions ? await enqueue(context, fetch, headers, hint) : await send(bodyOf(fetch), headers, query, hint);
      return answer as never;
    },
  };
}

/** Restricts the operation's cache policy by a subgraph answer's Cache-Control (cache-hints.ts). */
type CacheHintSink = (cacheControl: string | undefined) => void;

interface Waiting {
  fetch: PlannedFetch & { operationName?: string; extensions?: Record<string, unknown> };
  headers: Record<string, string>;
  hint: CacheHintSink;
  resolve(result: SubgraphResponseBody): void;
  reject(error: unknown): void;
}

const bodyOf = (fetch: Waiting['fetch']) => JSON.stringify({ query: fetch.query, variables: fetch.variables, operationName: fetch.operationName, extensions: fetch.extensions });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A subgraph answers some refusals with an HTTP error status (400 for variables that do not
 * coerce, 401 for a revoked token) and a GraphQL body. Pass its error on, code and field included,
 * rather than a bare "400: Bad Request".
 */
function errorFromResponse(response: { status: number; statusText: string }, json: unknown): GraphQLError {
  const first = (json as SubgraphResponseBody | undefined)?.errors?.[0];
  if (typeof first?.message === 'string' && typeof first.extensions?.code === 'string') {
    return new GraphQLError(first.message, { extensions: { ...first.extensions } });
  }
  const code = response.status === 401 ? ErrorCode.UNAUTHENTICATED : response.status === 403 ? ErrorCode.FORBIDDEN : undefined;
  return new GraphQLError(`${response.status}: ${response.statusText}`, { extensions: code ? { code } : {} });
}
