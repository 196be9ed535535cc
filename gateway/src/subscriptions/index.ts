import type { Server } from 'node:http';
import type { Express } from 'express';
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
  urlOverrides: Record<string, string | undefined>;
  verifier: TokenVerifier;
  logger: Logger;
  registry: client.Registry;
  recheckMs: number;
  maxBufferedBytes: number;
  slowClientCloseMs: number;
  /** Partner apps' subscriptions pass the same gate as their HTTP requests (quota, trusted documents, contract). */
  admitPartner?: AdmitPartner;
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
    dataSourceFor: (name, url) => createSubgraphSource(name, url, options.subgraphTimeoutMs),
  });
  const sse = createSseHandler({ hub, verifier: options.verifier, recheckMs: options.recheckMs, admitPartner: options.admitPartner });
  let websockets: ReturnType<typeof attachWebSocketServer> | undefined;
  return {
    hub,
    /** Loaded or reloaded supergraph: new plans, and open subscriptions end so clients resubscribe. */
    onSupergraph(supergraphSdl: string) {
      hub.setSupergraph(supergraphSdl, options.urlOverrides);
    },
    routes(app: Express) {
      app.use(options.path, (req, res, next) => {
        if (req.headers.accept?.includes('text/event-stream')) void sse(req, res);
        else next();
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
