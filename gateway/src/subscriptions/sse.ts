import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { GraphQLError, parse, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Response as SseResponse } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/express';
import { tokenExpiresAt, type AuthUser, type TokenVerifier } from '@analytica/auth';
import { revokes, type AdmitPartner, type SubscriptionHub } from './hub.js';

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const UNAUTHORIZED = { status: 401, statusText: 'Unauthorized', headers: JSON_TYPE };

function refusal(code: 'UNAUTHENTICATED', message: string) {
  return [JSON.stringify({ errors: [{ message, extensions: { code } }] }), UNAUTHORIZED] as const;
}

/** Refusals of the request itself, answered with the HTTP status /graphql gives them; other errors are the stream's only event. */
const REQUEST_STATUS: Record<string, [number, string]> = {
  GRAPHQL_PARSE_FAILED: [400, 'Bad Request'],
  GRAPHQL_VALIDATION_FAILED: [400, 'Bad Request'],
  BAD_REQUEST: [400, 'Bad Request'],
  UNAUTHENTICATED: [401, 'Unauthorized'],
  FORBIDDEN: [403, 'Forbidden'],
  RATE_LIMITED: [429, 'Too Many Requests'],
};

/** Every refusal carries its extensions.code, over SSE as over HTTP and WebSocket. */
function refuse(errors: readonly GraphQLError[]) {
  const code = String(errors[0]?.extensions?.code ?? '');
  const status = REQUEST_STATUS[code];
  if (!status) return { data: null, errors: [...errors] };
  const retryAfter = errors[0]?.extensions?.retryAfterSeconds;
  const headers = { ...JSON_TYPE, ...(typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {}) };
  const response: SseResponse = [JSON.stringify({ errors: errors.map((e) => e.toJSON()) }), { status: status[0], statusText: status[1], headers }];
  return response;
}

function badRequest(res: Response, status: number, message: string) {
  res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
}

/**
 * GraphQL over Server-Sent Events (graphql-sse, "distinct connections" mode) for clients that
 * cannot open a WebSocket: the same engine, the token in the Authorization header. A request to
 * /graphql that accepts text/event-stream lands here; everything else goes to Apollo Server.
 *
 * A stream lives as long as its token: it ends when the token expires (the client reconnects with
 * a fresh one and starts from the current values), at once when its session is revoked (the
 * gateway hears every logout on Redis), and at the latest one recheck interval after a revocation
 * it did not hear. Nothing is delivered once it has ended.
 */
export function createSseHandler(options: { hub: SubscriptionHub; verifier: TokenVerifier; recheckMs: number; admitPartner?: AdmitPartner; maxTokens?: number }) {
  const users = new WeakMap<object, { user: AuthUser; authorization: string }>();
  const handler = createHandler({
    // Distinct connections only: each operation is its own authenticated request.
    authenticate: async (req) => {
      const header = req.headers.get('authorization');
      if (!header) return refusal('UNAUTHENTICATED', 'Send the access token as "Authorization: Bearer <accessToken>".');
      const token = header.replace(/^Bearer\s+/i, '');
      try {
        users.set(req.raw, { user: await options.verifier.verify(token), authorization: `Bearer ${token}` });
      } catch {
        return refusal('UNAUTHENTICATED', 'The access token is not valid or has expired.');
      }
      return null;
    },
    onSubscribe: async (req, params) => {
      const caller = users.get(req.raw)!;
      let query = params.query;
      if (caller.user.partner) {
        if (!options.admitPartner) return refuse([new GraphQLError('Partner apps cannot subscribe on this gateway.', { extensions: { code: 'FORBIDDEN' } })]);
        const admitted = await options.admitPartner(caller.user.partner, params);
        if ('errors' in admitted) return refuse(admitted.errors);
        query = admitted.query;
      }
      let document: DocumentNode;
      try {
        // The token limit of an HTTP request.
        document = parse(query, options.maxTokens ? { maxTokens: options.maxTokens } : undefined);
      } catch (error) {
        return refuse([new GraphQLError((error as Error).message.replace(/^Syntax Error: /, ''), { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
      }
      const queue: ExecutionResult[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const end = () => {
        ended = true;
        queue.length = 0;
        wake?.();
      };
      const { user } = caller;
      const token = caller.authorization.slice('Bearer '.length);
      const stopRevocations = options.hub.onRevocation((notice) => {
        if (revokes(notice, user)) end();
      });
      const recheck = setInterval(() => {
        options.verifier.verify(token).catch((error: unknown) => {
          // A check that could not run (Redis slow or down) is no verdict: try again next time.
          if (!(error as { extensions?: { transient?: boolean } }).extensions?.transient) end();
        });
      }, options.recheckMs);
      const expiresAt = tokenExpiresAt(token);
      const expiry = expiresAt ? setTimeout(end, Math.max(0, expiresAt - Date.now())) : undefined;
      const release = () => {
        stopRevocations();
        clearInterval(recheck);
        clearTimeout(expiry);
      };
      const outcome = await options.hub.subscribe({
        document,
        operationName: params.operationName,
        variables: params.variables ?? {},
        user,
        requestId: randomUUID(),
        subscriber: {
          deliver: (_json, result) => {
            if (ended) return;
            // Keep the newest few: an event stream that falls behind skips to the latest values.
            if (queue.length >= 32) queue.shift();
            queue.push(result);
            wake?.();
          },
          end,
          authorization: () => caller.authorization,
        },
      });
      if ('errors' in outcome) {
        release();
        return refuse(outcome.errors);
      }
      const { unsubscribe } = outcome;
      async function* results(): AsyncGenerator<ExecutionResult> {
        try {
          while (!ended) {
            const next = queue.shift();
            if (next) {
              yield next;
              continue;
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        } finally {
          release();
          unsubscribe();
        }
      }
      return results();
    },
  });
  return (req: Request, res: Response) => {
    // What graphql-sse would refuse without a code, refused here with one.
    if (req.method === 'POST') {
      if (!req.is('application/json')) return badRequest(res, 415, 'Send the operation as JSON (content-type: application/json).');
      const body = req.body as { query?: unknown; variables?: unknown } | undefined;
      const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
      if (!isObject(body) || typeof body!.query !== 'string' || (body!.variables != null && !isObject(body!.variables))) {
        return badRequest(res, 400, 'Send a JSON object with "query" (a string) and optionally "variables" (an object) and "operationName".');
      }
    } else if (req.method === 'GET') {
      if (typeof req.query.query !== 'string') return badRequest(res, 400, 'Give the operation as the "query" parameter.');
      if (req.query.variables !== undefined) {
        try {
          JSON.parse(String(req.query.variables));
        } catch {
          return badRequest(res, 400, 'The "variables" parameter is not JSON.');
        }
      }
    } else return badRequest(res, 405, 'Subscribe with POST (or GET).');
    // graphql-sse serves "distinct connections" only for exactly this Accept header.
    req.headers.accept = 'text/event-stream';
    return handler(req, res);
  };
}
