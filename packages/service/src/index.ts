import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import http from 'node:http';
import express, { type Express, type Request } from 'express';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import client from 'prom-client';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLError, type OperationDefinitionNode, type SelectionNode } from 'graphql';
import { internalErrorMessage, isRequestId, withRequestId } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import { flushTracing, tagRequestId, traceIncomingRequest } from '@analytica/telemetry/context';
import { SIGNATURE_HEADER, SIGNATURE_MESSAGES, verifyRequest } from './signing.js';
import { metricsReader } from './cluster.js';
import { graphqlHttpHandler } from './graphql-http.js';

export { lifecycle, type Lifecycle } from './lifecycle.js';
export { runProcesses, type ProcessesOptions } from './cluster.js';
export { SIGNATURE_HEADER, signRequest, verifyRequest, type SignatureProblem } from './signing.js';

export type ReadinessCheck = () => Promise<unknown>;

export interface GraphQLMount<Ctx extends BaseContext> {
  /** Builds the server; the drain and metrics plugins are added here. */
  server: (plugins: ApolloServerPlugin<Ctx>[]) => ApolloServer<Ctx>;
  context: (req: Request, requestId: string, log: Logger) => Promise<Ctx>;
  /**
   * Subgraphs: /graphql answers only requests the gateway signed (signing.ts); any other gets 401
   * UNAUTHENTICATED with `extensions.reason` before it is parsed as GraphQL.
   */
  requireSignature?: { key: string; maxAgeSeconds: number };
}

export interface ServiceOptions<Ctx extends BaseContext> {
  name: string;
  port: number;
  host?: string;
  logger: Logger;
  /** Each check must resolve for /ready to answer 200; a rejection names the dependency. */
  readiness: Record<string, ReadinessCheck>;
  graphql?: GraphQLMount<Ctx>;
  routes?: (app: Express) => void;
  /** Runs after the HTTP server has drained: close pools, consumers, timers. */
  onStop?: () => Promise<void>;
  /** Gets the HTTP server once it listens, e.g. to accept WebSocket upgrades. */
  onListening?: (server: http.Server) => void;
  /** Runs first on stop, before draining: end long-lived connections (WebSockets, event streams). */
  beforeDrain?: () => Promise<void>;
  drainTimeoutMs?: number;
  /** Metrics registry to expose; one is made when omitted. */
  registry?: client.Registry;
  /** Largest JSON body /graphql accepts; a larger one is refused with 413 before it is parsed. */
  bodyLimitBytes?: number;
  /**
   * The private listener that alone answers GET /metrics (never the public port): METRICS_PORT,
   * 0 for a free one (the default here; services pass their configured port).
   */
  metricsPort?: number;
  /** METRICS_HOST: 127.0.0.1 unless the scraper is on another host. */
  metricsHost?: string;
}

export interface RunningService {
  url: string;
  port: number;
  /** http://<METRICS_HOST>:<METRICS_PORT>: the private listener with GET /metrics. */
  metricsUrl: string;
  stop(): Promise<void>;
}

/** Distinct operation names kept as labels; later new names go to `OTHER_OPERATION`. */
export const MAX_OPERATION_LABELS = 200;
/** The label of every operation whose name is not kept: unnamed-but-odd, too long, or over the limit. */
export const OTHER_OPERATION = 'other';
const OPERATION_TYPES = ['query', 'mutation', 'subscription', 'unknown'] as const;

/**
 * Content-Security-Policy of every answer: nothing may load, except inline styles (the few HTML
 * pages: unsubscribe links, the mail catcher) and forms posting back to the same origin.
 */
export const DEFAULT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/**
 * The operation label of graphql_operations_total: never what a caller chose beyond a bounded set.
 * A valid GraphQL name of at most 64 characters keeps its name while fewer than
 * MAX_OPERATION_LABELS names are known; anything else is `other`.
 */
export function operationLabeller(max = MAX_OPERATION_LABELS) {
  const known = new Set<string>();
  return (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (known.has(name)) return name;
    if (name.length > 64 || !/^[_A-Za-z][_0-9A-Za-z]*$/.test(name) || known.size >= max) return OTHER_OPERATION;
    known.add(name);
    return name;
  };
}

/**
 * The one HTTP skeleton every service shares: request ids and JSON access logs, /health, /ready,
 * /metrics, an optional GraphQL endpoint on /graphql, and a shutdown that stops taking work,
 * drains in-flight requests and only then closes the service's own resources.
 */
export function createHttpService<Ctx extends BaseContext>(options: ServiceOptions<Ctx>) {
  const { logger } = options;
  const registry = options.registry ?? new client.Registry();
  registry.setDefaultLabels({ service: options.name });
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const operations = new client.Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by name, type and outcome',
    labelNames: ['operation', 'type', 'outcome'],
    registers: [registry],
  });
  // The bucket of unknown names exists from the start, so that folding one in adds no series.
  for (const type of OPERATION_TYPES) for (const outcome of ['ok', 'error']) operations.inc({ operation: OTHER_OPERATION, type, outcome }, 0);
  const operationLabel = operationLabeller();

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(withExpressPrototypes(app), app);
  // Keep-alive longer than the gateway's pool keeps an idle connection (this timeout, less 2 s, as the
  // Keep-Alive header tells it), so that the gateway, not us, closes idle sockets.
  httpServer.keepAliveTimeout = 65_000;
  let stopping = false;

  app.use((req, res, next) => {
    const header = req.headers['x-request-id'];
    const requestId = isRequestId(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    (req as RequestWithId).requestId = requestId;
    // On every answer of every service; a route that serves HTML of its own may set a CSP of its own.
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('content-security-policy', DEFAULT_CSP);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const path = req.originalUrl.split('?')[0] ?? '';
      const route = ['/graphql', '/health', '/ready', '/.well-known/jwks.json'].includes(path) ? path : 'other';
      const method = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].includes(req.method) ? req.method : 'other';
      httpDuration.observe({ method, route, status: String(res.statusCode) }, seconds);
      if (!['/health', '/ready'].includes(path)) {
        logger.info({ requestId, method: req.method, path: path.slice(0, 200), status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
      }
    });
    // Inside the request's server span (tracing on) and with its request id (every log line).
    traceIncomingRequest(
      req,
      res,
      () => {
        // The request's server span carries the id, so that its trace can be found by it.
        tagRequestId(requestId);
        withRequestId(requestId, next);
      },
      () => routeOf(req),
    );
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  app.get('/ready', async (_req, res) => {
    if (stopping) {
      res.status(503).json({ status: 'stopping', service: options.name });
      return;
    }
    const results = await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, `unavailable: ${error instanceof Error ? error.message : String(error)}`] as const;
        }
      }),
    );
    const ready = results.every(([, status]) => status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', service: options.name, checks: Object.fromEntries(results) });
  });
  // /metrics is not on this (public) listener: see the metrics server below.
  options.routes?.(app);

  // The private listener: GET /metrics only, on METRICS_HOST:METRICS_PORT (127.0.0.1 by default);
  // in a worker of several processes, the sum over all of them (cluster.ts).
  const readMetrics = metricsReader(registry);
  const metricsServer = http.createServer((req, res) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('content-security-policy', DEFAULT_CSP);
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Only GET /metrics is served here.' } }));
      return;
    }
    readMetrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, 'metrics failed');
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL_SERVER_ERROR', message: internalErrorMessage() } }));
      },
    );
  });

  let apollo: ApolloServer<Ctx> | undefined;
  const metricsPlugin: ApolloServerPlugin<Ctx> = {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          operations.inc({
            operation: operationLabel(rc.operationName),
            type: rc.operation?.operation ?? 'unknown',
            outcome: rc.errors?.length ? 'error' : 'ok',
          });
        },
      };
    },
  };

  return {
    app,
    registry,
    async start(): Promise<RunningService> {
      if (options.graphql) {
        const mount = options.graphql;
        apollo = mount.server([ApolloServerPluginDrainHttpServer({ httpServer }), metricsPlugin]);
        await apollo.start();
        const signed = mount.requireSignature;
        app.use(
          '/graphql',
          // The raw body too when the signature covers it (its SHA-256 is part of what is signed).
          express.json({ limit: options.bodyLimitBytes ?? 1024 * 1024, verify: signed ? (req, _res, raw) => void ((req as RequestWithId).rawBody = raw) : undefined }),
          (req: Request, res: express.Response, next: express.NextFunction) => {
            if (!signed) return next();
            const body = (req as RequestWithId).rawBody ?? '';
            const problem = verifyRequest(
              signed.key,
              { method: req.method, path: req.originalUrl, body, signature: req.headers[SIGNATURE_HEADER] },
              { maxAgeSeconds: signed.maxAgeSeconds },
            );
            if (!problem) return next();
            logger.warn({ requestId: (req as RequestWithId).requestId, reason: problem, ip: req.socket.remoteAddress }, 'request without a valid gateway signature refused');
            res.status(401).json({ errors: [{ message: SIGNATURE_MESSAGES[problem], extensions: { code: 'UNAUTHENTICATED', reason: problem } }] });
          },
          // The body parser's callbacks run outside the request's async context: enter it again.
          (req: Request, _res: express.Response, next: express.NextFunction) => withRequestId((req as RequestWithId).requestId, next),
          graphqlHttpHandler(apollo, (req) => {
            const requestId = (req as RequestWithId).requestId;
            return mount.context(req, requestId, logger.child({ requestId }));
          }),
        );
        // Body parser refusals (too large, not JSON) as GraphQL errors, instead of express's HTML page.
        app.use('/graphql', (error: { status?: number; type?: string }, _req: Request, res: express.Response, next: express.NextFunction) => {
          if (error.type === 'entity.too.large') {
            res.status(413).json({ errors: [{ message: 'The request body is too large.', extensions: { code: 'BAD_REQUEST' } }] });
          } else if (error.type === 'entity.parse.failed') {
            res.status(400).json({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
          } else {
            next(error);
          }
        });
      }
      // Last: anything a route threw becomes a JSON answer without its cause (logged with the request id).
      app.use((error: unknown, req: Request, res: express.Response, next: express.NextFunction) => {
        if (res.headersSent) {
          next(error);
          return;
        }
        const requestId = (req as RequestWithId).requestId;
        const status = (error as { status?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
        if (typeof status === 'number' && status >= 400 && status < 500) {
          const message =
            status === 413
              ? 'The request body is too large.'
              : (error as { type?: string }).type === 'entity.parse.failed'
                ? 'The request body is not valid JSON.'
                : 'The request cannot be served.';
          res.status(status).json({ error: { code: 'BAD_REQUEST', message, requestId } });
          return;
        }
        logger.error({ err: error, requestId, method: req.method, path: req.path.slice(0, 200) }, 'internal error');
        res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: internalErrorMessage(requestId), requestId } });
      });
      const metricsHost = options.metricsHost ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        metricsServer.once('error', reject);
        metricsServer.listen({ port: options.metricsPort ?? 0, host: metricsHost }, () => {
          metricsServer.off('error', reject);
          resolve();
        });
      });
      const metricsUrl = `http://${metricsHost}:${(metricsServer.address() as AddressInfo).port}`;
      const closeMetrics = () => new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', (error) => void closeMetrics().then(() => reject(error)));
        // A burst of connections (thousands of WebSocket clients reconnecting after a gateway
        // restart) waits in the kernel's accept queue while the event loop is busy. Node asks for
        // 511 places; the kernel grants up to net.core.somaxconn (4096 on most systems).
        httpServer.listen({ port: options.port, host: options.host ?? '127.0.0.1', backlog: 4096 }, () => resolve());
      });
      options.onListening?.(httpServer);
      const { port } = httpServer.address() as AddressInfo;
      const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
      logger.info({ url, metricsUrl }, `${options.name} listening`);
      return {
        url,
        port,
        metricsUrl,
        async stop() {
          if (stopping) return;
          stopping = true;
          logger.info('draining');
          await options.beforeDrain?.();
          const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
          httpServer.closeIdleConnections();
          const timer = setTimeout(() => httpServer.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
          if (apollo) await apollo.stop();
          await closed;
          clearTimeout(timer);
          metricsServer.closeAllConnections();
          await closeMetrics();
          await options.onStop?.();
          logger.info('stopped');
        },
      };
    },
  };
}

/**
 * The HTTP server's request and response classes, built on Express's own request and response
 * prototypes.
 *
 * Why (issue 18): Express gives each request and response its prototypes as they enter the app
 * (`Object.setPrototypeOf` in `app.handle`). Changing an object's prototype after it was made
 * leaves V8 unable to keep the code that touches it fast, and that code is node's HTTP server
 * itself, for every header and write of the answer: replaying an 87.6 KB answer through Express
 * cost 160 µs of CPU against 85 µs on bare `node:http`, on this machine. When the objects are
 * made with those prototypes, Express's call changes nothing, and the same answer costs 90 µs.
 */
function withExpressPrototypes(app: Express): http.ServerOptions {
  function ServiceRequest(this: http.IncomingMessage, socket: Socket) {
    (http.IncomingMessage as unknown as (this: http.IncomingMessage, socket: Socket) => void).call(this, socket);
  }
  ServiceRequest.prototype = app.request;
  function ServiceResponse(this: http.ServerResponse, req: http.IncomingMessage, options?: unknown) {
    (http.ServerResponse as unknown as (this: http.ServerResponse, req: http.IncomingMessage, options?: unknown) => void).call(this, req, options);
  }
  ServiceResponse.prototype = app.response;
  return {
    IncomingMessage: ServiceRequest as unknown as typeof http.IncomingMessage,
    ServerResponse: ServiceResponse as unknown as typeof http.ServerResponse,
  };
}

interface RequestWithId extends Request {
  requestId: string;
  /** The body as received, kept only when a signature covers it. */
  rawBody?: Buffer;
}

/**
 * Runs a service until SIGTERM or SIGINT, then shuts it down cleanly and exits. Started by a
 * supervisor over an IPC channel (stack mode: dev/src/processes.ts), it also stops when that
 * channel closes: the supervisor is gone (killed, crashed), and nothing would stop this process
 * any more; it would serve on, orphaned, holding its ports and consuming its topics.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger) {
  let called = false;
  const handler = (signal: string) => {
    if (called) return;
    called = true;
    logger.info({ signal }, signal === 'disconnect' ? 'shutting down: the process that started this one is gone' : 'shutting down');
    // Spans still batched are sent before the process exits.
    stop()
      .then(flushTracing)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
  if (process.channel) {
    // The channel alone does not keep the process running; its closing still ends it.
    process.channel.unref();
    process.once('disconnect', () => handler('disconnect'));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * The root fields that authenticate by their arguments (a password, a refresh token, a token from
 * an email), never by the Authorization header: the one allow-list of operations a stale, expired
 * or invalid header does not refuse. A client that attaches its (expired) access token to every
 * request must still be able to refresh or sign in again. Every other operation keeps refusing a
 * bad token with 401 UNAUTHENTICATED (or 503 when the check itself could not run).
 */
export const SIGN_IN_FIELDS: ReadonlySet<string> = new Set(['login', 'register', 'refreshSession', 'verifyEmail', 'requestPasswordReset', 'resetPassword', 'confirmEmailChange']);

/**
 * Whether every root field of the operation (through fragments and inline fragments) is a
 * sign-in mutation field of SIGN_IN_FIELDS (`__typename` aside): such an operation is served
 * whatever its Authorization header says, as if it had none.
 */
export function isSignInOperation(operation: OperationDefinitionNode | undefined | null, fragments: Record<string, FragmentDefinitionNode | undefined> = {}): boolean {
  if (operation?.operation !== 'mutation') return false;
  let fields = 0;
  const seen = new Set<string>();
  const allSignIn = (selections: readonly SelectionNode[]): boolean =>
    selections.every((selection) => {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__typename') return true;
        fields += 1;
        return SIGN_IN_FIELDS.has(selection.name.value);
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) return allSignIn(selection.selectionSet.selections);
      const name = selection.name.value;
      if (seen.has(name)) return true;
      seen.add(name);
      const fragment = fragments[name];
      return fragment !== undefined && allSignIn(fragment.selectionSet.selections);
    });
  return allSignIn(operation.selectionSet.selections) && fields > 0;
}

/**
 * Refuses the whole request when its token was bad (the context carries the refusal as
 * `authError`), except for a sign-in operation (isSignInOperation), which goes on as anonymous:
 * `onSignIn` lets the caller forget the header too (the gateway then does not forward it).
 */
export function refuseBadTokens<Ctx extends BaseContext & { authError?: GraphQLError }>(options: { onSignIn?: (context: Ctx) => void } = {}): ApolloServerPlugin<Ctx> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ operation, document }) {
          if (!contextValue.authError) return;
          if (isSignInOperation(operation, fragmentsOf(document))) {
            contextValue.authError = undefined;
            options.onSignIn?.(contextValue);
            return;
          }
          throw contextValue.authError;
        },
      };
    },
  };
}

const fragmentsOf = (document: DocumentNode): Record<string, FragmentDefinitionNode> =>
  Object.fromEntries(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));

/** The route a request took (`/graphql`, `/v1/schemas/:name`), for span names: never a raw path, which would make them countless. */
function routeOf(req: Request): string | undefined {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (typeof route?.path === 'string') return `${req.baseUrl}${route.path}`;
  // Apollo's middleware is mounted with app.use, which sets no route.
  return req.originalUrl.split('?')[0] === '/graphql' ? '/graphql' : undefined;
}
