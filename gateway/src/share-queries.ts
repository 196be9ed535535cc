import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';

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

/**
 * What the execution behind an answer leaves for the requests that share it: the usage record
 * (usage.ts), so that every request is counted for its own client, shared or not.
 */
export interface AnswerNotes {
  usage?: { info: unknown; failed: boolean };
}

interface RecordedAnswer {
  status: number;
  headers: [string, string][];
  body: Buffer;
  notes: AnswerNotes;
}

/** The notes of the execution a request leads (read by the context factory). */
export const answerNotesOf = (req: Request): AnswerNotes | undefined => (req as SharingRequest).answerNotes;

/** Headers of an answer that a request given the same answer also gets (its own id, limits and security headers are set already). */
const REPLAYED_HEADERS = ['content-type', 'retry-after', 'cache-control'];

/**
 * The same sharing one step earlier, for HTTP: a POST of the same JSON body with the same
 * Authorization and Accept headers, while an identical one is in flight, gets that one's answer
 * (status, content type and bytes) without being parsed, planned, executed or serialised again.
 *
 * Each request has passed its own rate limit and partner gate before this (the routes before it);
 * what is shared is the work after. Only queries are shared: the operation's type is read from the
 * document (parsed once per distinct document), and mutations, subscriptions, documents that do
 * not parse and persisted-query hashes go on alone. An internal error's request id in a shared
 * answer is the first request's, whose log line holds the error.
 */
export function shareIdenticalRequests(options: { bodyLimitBytes: number; onShared?: (req: Request, notes: AnswerNotes, startedAt: number) => void }): RequestHandler {
  const inFlight = new Map<string, Promise<RecordedAnswer | undefined>>();
  const readJson = express.json({
    limit: options.bodyLimitBytes,
    verify: (req, _res, raw) => void ((req as RawRequest).rawBody = raw),
  });
  return (req, res, next) => {
    const accept = req.headers.accept ?? '';
    if (req.method !== 'POST' || !req.is('application/json') || accept.includes('text/event-stream') || accept.includes('multipart/')) return next();
    const startedAt = performance.now();
    readJson(req, res, (error?: unknown) => {
      if (error) return next(error);
      // A partner's body was read (and its document checked) by the gate: its parsed form is the key.
      const raw = (req as RawRequest).rawBody?.toString('utf8') ?? JSON.stringify(req.body);
      const body = req.body as { query?: unknown; operationName?: unknown } | undefined;
      if (typeof body?.query !== 'string' || operationTypeOf(body.query, typeof body.operationName === 'string' ? body.operationName : undefined) !== 'query') return next();
      const key = `${req.headers.authorization ?? ''}\n${accept}\n${raw}`;
      const pending = inFlight.get(key);
      if (pending) {
        void pending.then((answer) => {
          // The first request did not complete (its client went away): this one runs on its own.
          if (!answer) return next();
          options.onShared?.(req, answer.notes, startedAt);
          res.status(answer.status);
          for (const [name, value] of answer.headers) res.setHeader(name, value);
          res.end(answer.body);
        });
        return;
      }
      const notes: AnswerNotes = {};
      (req as SharingRequest).answerNotes = notes;
      const recorded = record(res, notes);
      inFlight.set(key, recorded);
      void recorded.finally(() => inFlight.delete(key));
      next();
    });
  };
}

type RawRequest = Request & { rawBody?: Buffer };
type SharingRequest = Request & { answerNotes?: AnswerNotes };

/** What a response sends, once it has sent it all (undefined if it was cut off). */
function record(res: Response, notes: AnswerNotes): Promise<RecordedAnswer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    };
    res.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
      keep(chunk, encoding);
      return write(chunk, encoding, callback);
    }) as Response['write'];
    res.end = ((chunk?: unknown, encoding?: unknown, callback?: unknown) => {
      keep(chunk, encoding);
      const headers: [string, string][] = [];
      for (const name of REPLAYED_HEADERS) {
        const value = res.getHeader(name);
        if (value !== undefined) headers.push([name, String(value)]);
      }
      resolve({ status: res.statusCode, headers, body: Buffer.concat(chunks), notes });
      return end(chunk, encoding, callback);
    }) as Response['end'];
    res.on('close', () => resolve(undefined)); // no-op once resolved
  });
}

// Operation types by document and operation name; the set of documents a client base sends is
// small, the bound only protects against one that is not.
const operationTypes = new Map<string, string | null>();
function operationTypeOf(query: string, operationName: string | undefined): string | null {
  const key = `${operationName ?? ''}\n${query}`;
  let type = operationTypes.get(key);
  if (type === undefined) {
    try {
      const operations = parse(query, { noLocation: true }).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      const operation = operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName);
      type = operation?.operation ?? null;
    } catch {
      type = null;
    }
    if (operationTypes.size >= 2000) operationTypes.delete(operationTypes.keys().next().value as string);
    operationTypes.set(key, type);
  }
  return type;
}
