import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/**
 * The refusal of a browser origin that is not on GATEWAY_CORS_ORIGINS: the same code and message
 * over HTTP, SSE (403 with this body) and WebSocket (the upgrade answered 403 with this body).
 */
export const ORIGIN_REFUSAL = {
  status: 403,
  code: 'FORBIDDEN',
  message: "Requests from this origin are not allowed: it is not on the gateway's list of allowed origins (GATEWAY_CORS_ORIGINS).",
} as const;

export const originRefusalBody = () => JSON.stringify({ errors: [{ message: ORIGIN_REFUSAL.message, extensions: { code: ORIGIN_REFUSAL.code } }] });

/** What a listed origin may send and read. */
// PUT: statement files to their upload URL (uploads.ts).
const ALLOW_METHODS = 'GET, POST, PUT, OPTIONS';
const ALLOW_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  'x-request-id',
  'last-event-id',
].join(', ');
const EXPOSE_HEADERS = 'x-request-id, retry-after';

export interface OriginPolicy {
  /** Whether a request with these headers may go on: no Origin (not a browser), the gateway's own origin, or a listed one. */
  admits(headers: IncomingHttpHeaders): boolean;
  /** The Express middleware of /graphql (HTTP and SSE): preflights, CORS headers, refusals. */
  middleware: (req: Request, res: Response, next: NextFunction) => void;
}

/**
 * CORS for the one endpoint. A listed origin gets Access-Control-Allow-Origin (itself, never `*`)
 * with credentials, and its preflight 204; an unlisted one gets no Access-Control-* header at all
 * and 403 FORBIDDEN. A request without Origin is not a browser's cross-origin request and passes
 * (Apollo's CSRF prevention still refuses "simple" requests, as before). The gateway's own pages
 * (the IDE) send the gateway's origin, which is always admitted.
 */
export function originPolicy(options: { origins: readonly string[]; maxAgeSeconds: number }): OriginPolicy {
  const listed = new Set(options.origins);
  const isListed = (origin: string) => listed.has(origin);
  const isOwn = (origin: string, host: string | undefined) => {
    if (!host) return false;
    try {
      return new URL(origin).host === host.toLowerCase();
    } catch {
      return false;
    }
  };
  const admits = (headers: IncomingHttpHeaders) => {
    const origin = headers.origin;
    if (origin === undefined) return true;
    return isListed(origin) || isOwn(origin, headers.host);
  };
  return {
    admits,
    middleware(req, res, next) {
      // Every answer depends on Origin (a cache must not hand one origin's answer to another).
      res.vary('Origin');
      const origin = req.headers.origin;
      if (origin === undefined) return next();
      if (isListed(origin)) {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('access-control-allow-credentials', 'true');
        res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
        if (req.method === 'OPTIONS') {
          res.setHeader('access-control-allow-methods', ALLOW_METHODS);
          res.setHeader('access-control-allow-headers', ALLOW_HEADERS);
          res.setHeader('access-control-max-age', String(options.maxAgeSeconds));
          res.status(204).end();
          return;
        }
        return next();
      }
      if (isOwn(origin, req.headers.host)) return next();
      res.status(ORIGIN_REFUSAL.status).type('application/json').send(originRefusalBody());
    },
  };
}
