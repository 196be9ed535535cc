import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '@analytica/logger';
import { RegistryError } from './errors.js';
import type { Registry } from './registry.js';
import type { Caller, Scope, TokenAuthority } from './tokens.js';
import type { UsageStore } from './usage.js';

/**
 * The HTTP API publishers, CI, the gateway and operators use. Every route needs a service token
 * with the route's scope; every refusal is JSON `{ error: { code, message, field?, details? } }`.
 */
export function registryRoutes(app: Express, deps: { registry: Registry; usage: UsageStore; tokens: TokenAuthority; logger: Logger }) {
  const { registry, usage, tokens, logger } = deps;
  const api = express.Router();
  api.use(express.json({ limit: '10mb' }));

  const route = (scope: Scope | 'admin', handler: (req: Request, res: Response, caller: Caller) => Promise<unknown>) => async (req: Request, res: Response) => {
    const caller = await tokens.authenticate(req.headers.authorization);
    tokens.require(caller, scope);
    const body = await handler(req, res, caller);
    if (body !== undefined && !res.headersSent) res.json(body);
  };
  const q = (req: Request, name: string) => (req.query[name] === undefined ? undefined : String(req.query[name]));
  const provenance = (req: Request, caller: Caller) => ({ commit: req.body?.commit, author: req.body?.author ?? caller.name });

  // The gateway polls this with If-None-Match: an unchanged supergraph costs a 304 and no body.
  api.get(
    '/supergraph',
    route('read', async (req, res) => {
      const { version, sdl, hash } = await registry.supergraph(q(req, 'version'));
      const etag = `"${hash}"`;
      res.setHeader('etag', etag);
      res.setHeader('x-schema-version', String(version));
      res.setHeader('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) {
        res.status(304).end();
        return;
      }
      res.type('text/plain').send(sdl);
    }),
  );
  api.get(
    '/api-schema',
    route('read', async (req, res) => {
      const { version, sdl } = await registry.apiSchema(q(req, 'version'));
      res.setHeader('x-schema-version', String(version));
      res.type('text/plain').send(sdl);
    }),
  );
  api.get(
    '/versions',
    route('read', (req) => registry.log(q(req, 'limit'))),
  );
  api.get(
    '/versions/:version',
    route('read', (req) => registry.version(req.params.version)),
  );
  api.get(
    '/diff',
    route('read', (req) => registry.diff(q(req, 'from'), q(req, 'to'))),
  );
  api.get(
    '/subgraphs',
    route('read', () => registry.subgraphs()),
  );
  api.get(
    '/subgraphs/:name/sdl',
    route('read', (req) => registry.subgraphSdl(String(req.params.name), q(req, 'version'))),
  );
  api.post(
    '/publish',
    route('publish', async (req, res, caller) => {
      const result = await registry.publish(req.body?.subgraphs, provenance(req, caller));
      if (result.changed) logger.info({ version: result.version, by: caller.name, subgraphs: (req.body.subgraphs as { name: string }[]).map((s) => s.name) }, 'published');
      res.status(result.changed ? 201 : 200);
      return result;
    }),
  );
  api.post(
    '/check',
    route('check', (req) =>
      registry.check(
        { name: req.body?.subgraph, sdl: req.body?.sdl, url: req.body?.url },
        { windowDays: req.body?.windowDays, approved: req.body?.approved, strict: req.body?.strict },
      ),
    ),
  );
  api.post(
    '/rollback',
    route('publish', async (req, res, caller) => {
      const result = await registry.rollback(req.body?.to, provenance(req, caller));
      if (result.changed) logger.info({ version: result.version, to: req.body?.to, by: caller.name }, 'rolled back');
      res.status(result.changed ? 201 : 200);
      return result;
    }),
  );
  api.post(
    '/usage',
    route('report', (req) => usage.ingest(req.body)),
  );
  api.get(
    '/usage/operations',
    route('read', (req) => usage.operations({ from: q(req, 'from'), to: q(req, 'to'), client: q(req, 'client') })),
  );
  api.get(
    '/usage/fields',
    route('read', (req) => usage.fields({ from: q(req, 'from'), to: q(req, 'to'), client: q(req, 'client'), coordinate: q(req, 'coordinate') })),
  );
  api.post(
    '/tokens',
    route('admin', async (req, res) => {
      res.status(201);
      return tokens.create(req.body?.name, req.body?.scopes);
    }),
  );
  api.delete(
    '/tokens/:name',
    route('admin', async (req) => {
      await tokens.revoke(String(req.params.name));
      return { revoked: req.params.name };
    }),
  );
  api.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: `No registry route ${req.method} ${req.baseUrl}${req.path}.` } });
  });
  api.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof RegistryError) {
      res.status(error.status).json({ error: error.toJSON() });
      return;
    }
    const parse = error as { type?: string; status?: number };
    if (parse.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'BAD_USER_INPUT', message: 'The request body is not valid JSON.' } });
      return;
    }
    if (parse.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'BAD_USER_INPUT', message: 'The request body is too large (at most 10 MB).' } });
      return;
    }
    logger.error({ err: error }, 'registry request failed');
    res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'The registry failed to answer; see its log.' } });
  });
  app.use('/api', api);
}
