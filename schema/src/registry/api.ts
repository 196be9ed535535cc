import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { PartnerClaim } from '@analytica/auth';
import type { Logger } from '@analytica/logger';
import type { ContractStore } from './contract-store.js';
import { RegistryError } from './errors.js';
import { GATEWAY_INSTANCE_HEADER, GATEWAY_SCHEMA_VERSION_HEADER, type GatewayLog } from './gateways.js';
import { partnerDocsPage, type partnerAuthenticator } from './partners.js';
import type { Registry } from './registry.js';
import type { Caller, Scope, TokenAuthority } from './tokens.js';
import type { UsageStore } from './usage.js';
import type { Webhooks } from './webhooks.js';

/**
 * The HTTP API publishers, CI, the gateway and operators use. Every route needs a service token
 * with the route's scope; every refusal is JSON `{ error: { code, message, field?, details? } }`.
 * Partner apps' routes (/api/partner/*) take the partner's access token instead.
 */
export function registryRoutes(
  app: Express,
  deps: {
    registry: Registry;
    usage: UsageStore;
    tokens: TokenAuthority;
    contracts: ContractStore;
    webhooks: Webhooks;
    gateways: GatewayLog;
    partners: ReturnType<typeof partnerAuthenticator>;
    partnerApiUrl: string;
    logger: Logger;
  },
) {
  const { registry, usage, tokens, contracts, webhooks, gateways, partners, logger } = deps;
  const api = express.Router();
  api.use(express.json({ limit: '10mb' }));

  const route = (scope: Scope | 'admin', handler: (req: Request, res: Response, caller: Caller) => Promise<unknown>) => async (req: Request, res: Response) => {
    const caller = await tokens.authenticate(req.headers.authorization);
    tokens.require(caller, scope);
    const body = await handler(req, res, caller);
    if (body !== undefined && !res.headersSent) res.json(body);
  };
  const partnerRoute = (handler: (req: Request, res: Response, partner: PartnerClaim) => Promise<unknown>) => async (req: Request, res: Response) => {
    const partner = await partners(req.headers.authorization);
    const body = await handler(req, res, partner);
    if (body !== undefined && !res.headersSent) res.json(body);
  };
  const q = (req: Request, name: string) => (req.query[name] === undefined ? undefined : String(req.query[name]));
  const provenance = (req: Request, caller: Caller) => ({ commit: req.body?.commit, author: req.body?.author ?? caller.name });

  // The gateway polls this with If-None-Match: an unchanged supergraph costs a 304 and no body.
  api.get(
    '/supergraph',
    route('read', async (req, res) => {
      // A gateway names itself and the version it serves: recorded for the admin console, never failing the poll.
      if (req.headers[GATEWAY_INSTANCE_HEADER]) {
        await gateways
          .seen(req.headers[GATEWAY_INSTANCE_HEADER], req.headers[GATEWAY_SCHEMA_VERSION_HEADER])
          .catch((err: unknown) => logger.warn({ err }, 'could not record the gateway instance'));
      }
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
    '/usage/series',
    route('read', (req) => usage.series({ from: q(req, 'from'), to: q(req, 'to'), bucketMinutes: q(req, 'bucketMinutes'), client: q(req, 'client') })),
  );
  // Which gateways poll the supergraph, and the schema version each serves.
  api.get(
    '/gateways',
    route('read', () => gateways.list()),
  );
  api.get(
    '/usage/fields',
    route('read', (req) => usage.fields({ from: q(req, 'from'), to: q(req, 'to'), client: q(req, 'client'), coordinate: q(req, 'coordinate') })),
  );
  // Contracts: filtered API schemas for partners (docs/partners.md section 2).
  api.get(
    '/contracts',
    route('read', () => contracts.list()),
  );
  // The gateway polls this like /supergraph: an unchanged set of contract schemas costs a 304.
  api.get(
    '/contracts/schemas',
    route('read', async (req, res) => {
      const { contracts: list, hash } = await contracts.schemas();
      const etag = `"${hash}"`;
      res.setHeader('etag', etag);
      res.setHeader('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) {
        res.status(304).end();
        return;
      }
      return { contracts: list.map(({ name, version, schemaVersion, sdl }) => ({ name, version, schemaVersion, sdl })) };
    }),
  );
  api.put(
    '/contracts/:name',
    route('admin', async (req, res, caller) => {
      const result = await contracts.put(req.params.name, req.body);
      logger.info({ contract: req.params.name, by: caller.name, created: result.created }, 'contract defined');
      res.status(result.created ? 201 : 200);
      return result;
    }),
  );
  api.get(
    '/contracts/:name/changelog',
    route('read', (req) => contracts.changelog(String(req.params.name), q(req, 'limit'))),
  );
  api.post(
    '/contracts/:name/deprecations',
    route('admin', async (req, res, caller) => {
      const result = await contracts.deprecate(String(req.params.name), req.body, caller.name);
      logger.info({ contract: result.contract, coordinate: result.coordinate, removeAfter: result.removeAfter, by: caller.name }, 'removal approved');
      res.status(201);
      return result;
    }),
  );
  api.get(
    '/apps/:appId/documents/:hash',
    route('read', (req) => contracts.document(String(req.params.appId), String(req.params.hash))),
  );
  // Partner apps, with their access token: their contract, its changelog, their trusted documents, a docs page.
  api.get(
    '/partner/contract',
    partnerRoute(async (_req, res, partner) => {
      const current = await contracts.current(partner.contract);
      res.setHeader('x-contract-version', String(current.id));
      res.type('text/plain').send(current.api_schema);
    }),
  );
  api.get(
    '/partner/changelog',
    partnerRoute((req, _res, partner) => contracts.changelog(partner.contract, q(req, 'limit'))),
  );
  api.put(
    '/partner/manifest',
    partnerRoute(async (req, _res, partner) => {
      const result = await contracts.storeManifest(partner.appId, partner.contract, req.body);
      logger.info({ partner: partner.id, app: partner.appId, stored: result.stored }, 'trusted documents stored');
      return result;
    }),
  );
  // A partner's webhook: new versions of its contract are POSTed to it, signed (x-analytica-signature).
  api.put(
    '/partner/webhook',
    partnerRoute((req, res, partner) => {
      res.status(201);
      return webhooks.register(partner, req.body);
    }),
  );
  api.get(
    '/partner/webhook',
    partnerRoute((_req, _res, partner) => webhooks.get(partner)),
  );
  api.delete(
    '/partner/webhook',
    partnerRoute((_req, _res, partner) => webhooks.remove(partner)),
  );
  api.get(
    '/partner/docs',
    partnerRoute(async (_req, res, partner) => {
      const current = await contracts.current(partner.contract);
      const { versions } = await contracts.changelog(partner.contract, 50);
      // The page shows partner text (descriptions, reasons) escaped; it needs no script and loads nothing.
      res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
      res
        .type('text/html')
        .send(
          partnerDocsPage({ partner, apiUrl: deps.partnerApiUrl, contract: { name: partner.contract, version: Number(current.id), sdl: current.api_schema }, changelog: versions }),
        );
    }),
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
