import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '@analytica/logger';

/**
 * The headers a request forwarded to a service behind the gateway carries: the named ones of the
 * client, the request id (so its logs join the gateway's), and the client's address appended to
 * X-Forwarded-For.
 */
export function forwardedHeaders(req: Request, res: Response, names: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': String(res.getHeader('x-request-id') ?? '') };
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const forwardedFor = [req.headers['x-forwarded-for'], req.ip].filter(Boolean).join(', ');
  if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
  return headers;
}

/** Answer headers worth passing back from the token endpoint (RFC 6749 §5.1 asks for no-store). */
const PASSED_BACK = ['content-type', 'cache-control', 'pragma', 'www-authenticate', 'retry-after'];

/**
 * `POST /oauth/token` on the gateway: partner apps exchange client credentials for an access
 * token on the same endpoint they then call, and the user service (which owns credentials and
 * signs every token) answers. The body is passed through untouched, form or JSON; so are HTTP
 * Basic credentials. The user service is never exposed to partners directly.
 */
export function forwardTokenRequests(tokenUrl: string, logger: Logger): RequestHandler[] {
  const body = express.raw({ type: () => true, limit: '16kb' });
  const forward: RequestHandler = async (req, res) => {
    try {
      const headers = forwardedHeaders(req, res, ['content-type', 'authorization', 'accept']);
      const answer = await fetch(tokenUrl, { method: 'POST', headers, body: Buffer.isBuffer(req.body) ? req.body : undefined, signal: AbortSignal.timeout(10_000) });
      for (const name of PASSED_BACK) {
        const value = answer.headers.get(name);
        if (value) res.setHeader(name, value);
      }
      res.status(answer.status).send(Buffer.from(await answer.arrayBuffer()));
    } catch (error) {
      logger.warn({ err: error, tokenUrl }, 'token endpoint unreachable');
      res
        .status(503)
        .setHeader('cache-control', 'no-store')
        .json({ error: 'temporarily_unavailable', error_description: 'The token service cannot be reached right now; try again shortly.', code: 'SERVICE_UNAVAILABLE' });
    }
  };
  return [body, forward];
}
