import type { IncomingHttpHeaders, Server } from 'node:http';
import express, { type Express } from 'express';
import type { ValidationRule } from 'graphql';
import type { AuthUser } from '@analytica/auth';
import type client from 'prom-client';
import type { TokenVerifier } from '@analytica/auth';
import type { Logger } from '@analytica/logger';
import { createSubgraphSource } from '../datasource.js';
import { createSubscriptionHub, type AdmitPartner } from './hub.js';
import { createSseHandler } from './sse.js';
import { attachWebSocketServer } from './websocket.js';

export interface SubscriptionOptions {
  path: string;
  redisUrl: string;
  channelPrefix: string;
  subgraphTimeoutMs: number;
  /** SUBGRAPH_SIGNING_KEY: the per-event fetches are signed like every other subgraph request. */
  subgraphSigningKey?: string;
  urlOverrides: Record<string, string | undefined>;
  verifier: TokenVerifier;
  logger: Logger;
  registry: client.Registry;
  recheckMs: number;
  maxBufferedBytes: number;
  slowClientCloseMs: number;
  /** Partner apps' subscriptions pass the same gate as their HTTP requests (quota, trusted documents, contract). */
  admitPartner?: AdmitPartner;
  /**
   * The limits of an HTTP request, for every subscription on every transport: the gateway's
   * validation rules (depth, cost, aliases, directives), the token limit of the parser, and the
   * body limit (an SSE request is an HTTP request). Unset: graphql-js's rules alone.
   */
  limits?: { validationRules: readonly ValidationRule[]; maxTokens: number; hideSuggestions: boolean; bodyLimitBytes: number };
  /** Spends a subscribe operation of the user's request budget (0, or seconds to wait); WebSocket subscribes pay it here, SSE requests in the HTTP budget. */
  spendBudget?: (user: AuthUser) => Promise<number>;
  /** The Origin check of /graphql (cors.ts), for WebSocket upgrades; SSE requests pass the HTTP middleware. */
  admitOrigin?: { admits: (headers: IncomingHttpHeaders) => boolean; refusal: { status: number; body: string } };
}

/**
 * Federated subscriptions on the gateway's one endpoint: graphql-transport-ws over WebSocket and
 * GraphQL over SSE, both served by one hub that plans with the federation query planner, listens
 * to Redis and shares executions. Returns the hooks the HTTP service calls.
 */
export function createSubscriptions(options: SubscriptionOptions) {
  const hub = createSubscriptionHub({
    redisUrl: options.redisUrl,
    channelPrefix: options.channelPrefix,
    logger: options.logger,
    registry: options.registry,
    dataSourceFor: (name, url) => createSubgraphSource(name, url, options.subgraphTimeoutMs, { signingKey: options.subgraphSigningKey }),
    limits: options.limits && { validationRules: options.limits.validationRules, hideSuggestions: options.limits.hideSuggestions },
  });
  const maxTokens = options.limits?.maxTokens;
  const sse = createSseHandler({ hub, verifier: options.verifier, recheckMs: options.recheckMs, admitPartner: options.admitPartner, maxTokens });
  // The HTTP body limit holds for an event stream's request too (413 BAD_REQUEST, as on /graphql).
  const parseBody = express.json({ limit: options.limits?.bodyLimitBytes ?? 1024 * 1024 });
  let websockets: ReturnType<typeof attachWebSocketServer> | undefined;
  return {
    hub,
    /** Loaded or reloaded supergraph: new plans, and open subscriptions end so clients resubscribe. */
    onSupergraph(supergraphSdl: string) {
      hub.setSupergraph(supergraphSdl, options.urlOverrides);
    },
    routes(app: Express) {
      app.use(options.path, (req, res, next) => {
        if (!req.headers.accept?.includes('text/event-stream')) return next();
        if (req.method !== 'POST') return void sse(req, res);
        parseBody(req, res, (error?: unknown) => {
          // Refusals of the body parser go to the same handler as on /graphql (413 or 400, BAD_REQUEST).
          if (error) return next(error);
          void sse(req, res);
        });
      });
    },
    onListening(server: Server) {
      websockets = attachWebSocketServer(server, {
        path: options.path,
        hub,
        verifier: options.verifier,
        logger: options.logger,
        registry: options.registry,
        recheckMs: options.recheckMs,
        maxBufferedBytes: options.maxBufferedBytes,
        slowClientCloseMs: options.slowClientCloseMs,
        admitPartner: options.admitPartner,
        maxTokens,
        spendBudget: options.spendBudget,
        admitOrigin: options.admitOrigin,
      });
    },
    async beforeDrain() {
      await websockets?.close();
      hub.endAll('The gateway is shutting down.');
    },
    close: () => hub.close(),
    ping: () => hub.ping(),
  };
}
