import { createHash } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { GraphQLError } from 'graphql';
import type { PartnerClaim } from '@analytica/auth';
import { ErrorCode } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import { authenticationOf } from '../request-budget.js';
import { introspect, pickOperation, type Contract, type createContractChecker } from './contract-check.js';
import type { ContractSource } from './contracts.js';
import type { TrustedDocuments } from './documents.js';
import type { partnerQuotas } from './quotas.js';

export interface PartnerGateDeps {
  /** Unset when the gateway has no registry (REGISTRY_URL): partner tokens are then refused. */
  contracts?: ContractSource;
  documents?: TrustedDocuments;
  quotas: ReturnType<typeof partnerQuotas>;
  checker: ReturnType<typeof createContractChecker>;
  bodyLimitBytes: number;
  logger: Logger;
}

/** A GraphQL operation as a client sends it (POST body, GET parameters, a graphql-ws subscribe payload). */
export interface OperationParams {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

class Refusal extends GraphQLError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(message, { extensions: { code } });
  }
}

const PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND';
const operationNameOf = (params: OperationParams) => (typeof params.operationName === 'string' ? params.operationName : undefined);
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * What stands between a partner app and the graph, in this order: its quota, its trusted
 * documents, its contract. Users' requests pass untouched. The same checks serve HTTP (`middleware`)
 * and subscriptions (`admit`), so a socket refuses what a POST refuses, with the same codes.
 */
export function createPartnerGate(deps: PartnerGateDeps) {
  const { contracts, documents, quotas, checker } = deps;
  const parseJson = express.json({ limit: deps.bodyLimitBytes });

  function contractOf(partner: PartnerClaim): Contract {
    if (!contracts || !documents)
      throw new Refusal(503, ErrorCode.SERVICE_UNAVAILABLE, 'Partner access is not available on this gateway: it has no schema registry (REGISTRY_URL).');
    if (!contracts.loaded()) throw new Refusal(503, ErrorCode.SERVICE_UNAVAILABLE, 'Partner contracts are not loaded yet; try again in a few seconds.');
    const contract = contracts.get(partner.contract);
    if (!contract) throw new Refusal(403, ErrorCode.FORBIDDEN, `This app's contract "${partner.contract}" is not published in the schema registry; ask Analytica to publish it.`);
    return contract;
  }

  /** The document text to run: a registered one for a hash, else the query sent (unless the app may send only registered ones). */
  async function documentOf(partner: PartnerClaim, params: OperationParams): Promise<string | undefined> {
    const query = typeof params.query === 'string' && params.query !== '' ? params.query : undefined;
    const persisted = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
    if (persisted === undefined) {
      if (partner.trustedDocumentsOnly) {
        throw new Refusal(
          400,
          PERSISTED_QUERY_NOT_FOUND,
          'This app may run only operations registered in its manifest: send extensions.persistedQuery.sha256Hash of a registered document instead of a query.',
        );
      }
      return query;
    }
    const hash = persisted.sha256Hash;
    if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
      throw new Refusal(400, ErrorCode.BAD_USER_INPUT, 'extensions.persistedQuery.sha256Hash must be the SHA-256 of the document, as 64 hexadecimal characters.');
    }
    const sha = hash.toLowerCase();
    const matches = query !== undefined && createHash('sha256').update(query).digest('hex') === sha;
    if (query !== undefined && !matches)
      throw new Refusal(400, ErrorCode.BAD_USER_INPUT, 'The query does not match extensions.persistedQuery.sha256Hash (the SHA-256 of the exact query text).');
    let registered: string | null;
    try {
      registered = await documents!.lookup(partner.appId, sha);
    } catch (error) {
      deps.logger.warn({ err: error, appId: partner.appId }, 'trusted document lookup failed');
      throw new Refusal(503, ErrorCode.SERVICE_UNAVAILABLE, 'Registered operations cannot be read right now; try again shortly.');
    }
    if (registered !== null) return registered;
    // Not registered: an app limited to trusted documents stops here; any other app may send the
    // query with its hash (Apollo's automatic persisted queries), which is then checked like any query.
    if (partner.trustedDocumentsOnly || query === undefined) {
      throw new Refusal(
        400,
        PERSISTED_QUERY_NOT_FOUND,
        partner.trustedDocumentsOnly
          ? `Operation ${sha} is not registered for this app; register it in the app's manifest (PUT /api/partner/manifest on the schema registry).`
          : `Operation ${sha} is not registered for this app; send the query with its hash.`,
      );
    }
    return query;
  }

  /**
   * The operation a partner may run, checked against its contract; `errors` when it may not.
   * `introspection` when it only asks about the schema: answered from the contract, never the gateway.
   */
  async function screen(partner: PartnerClaim, params: OperationParams) {
    const contract = contractOf(partner);
    const query = await documentOf(partner, params);
    if (query === undefined) return { query, contract, verdict: { kind: 'unparsed' as const } };
    const operationName = operationNameOf(params);
    return { query, contract, verdict: checker.check(contract, query, operationName) };
  }

  const middleware: RequestHandler = async (req, res, next) => {
    const partner = authenticationOf(req)?.user?.partner;
    // Subscriptions over SSE pass the same gate in the subscription engine (admit, below).
    if (!partner || req.headers.accept?.includes('text/event-stream')) return next();
    try {
      const quota = await quotas.spend(partner);
      for (const [name, value] of Object.entries(quota.headers)) res.setHeader(name, value);
      if (quota.refused) {
        const { retryAfterSeconds, limit } = quota.refused;
        res.setHeader('retry-after', String(retryAfterSeconds));
        return send(res, 429, [
          new GraphQLError(`This app is over its ${limit === 'rate' ? 'rate limit per minute' : 'daily quota'}; try again in ${retryAfterSeconds} s.`, {
            extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds },
          }),
        ]);
      }
      if (req.method === 'POST') await new Promise<void>((resolve, reject) => parseJson(req, res, (error?: unknown) => (error ? reject(error as Error) : resolve())));
      const params = req.method === 'GET' ? paramsFromUrl(req) : (req.body as OperationParams | OperationParams[]);
      if (Array.isArray(params)) return send(res, 400, [new Refusal(400, 'BAD_REQUEST', 'Send one operation per request.')]);
      const { query, contract, verdict } = await screen(partner, params ?? {});
      if (verdict.kind === 'invalid') return send(res, 400, verdict.errors);
      if (verdict.kind === 'introspection') {
        const variables = typeof params.variables === 'object' && params.variables !== null ? (params.variables as Record<string, unknown>) : undefined;
        return void res.json(await introspect(contract, verdict.document, operationNameOf(params), variables));
      }
      // From here on the server runs the document that was checked: a registered one replaces the
      // hash, and the hash goes (the server's own persisted-query cache must not stand in for it).
      const { persistedQuery: _checked, ...extensions } = (params.extensions ?? {}) as Record<string, unknown>;
      req.body = { ...params, query, extensions };
      if (req.method === 'GET') {
        if (verdict.kind === 'valid' && (pickOperation(verdict.document, operationNameOf(params))?.operation ?? 'query') !== 'query') {
          res.setHeader('allow', 'POST');
          return send(res, 405, [new Refusal(405, 'BAD_REQUEST', 'GET requests run only queries; send mutations with POST.')]);
        }
        // The server reads GET operations from the URL; the checked one is handed over as a body.
        req.method = 'POST';
        req.headers['content-type'] = 'application/json';
        (req as Request & { _body?: boolean })._body = true;
      }
      next();
    } catch (error) {
      if (error instanceof Refusal) return send(res, error.status, [error]);
      next(error);
    }
  };

  /**
   * For a subscription from a partner: the query to run (a registered document for a hash), or the
   * errors to send back. Each subscription counts against the app's quota like a request.
   */
  async function admit(partner: PartnerClaim, params: OperationParams): Promise<{ query: string } | { errors: GraphQLError[] }> {
    try {
      const quota = await quotas.spend(partner);
      if (quota.refused) {
        return {
          errors: [
            new GraphQLError(`This app is over its ${quota.refused.limit}; try again in ${quota.refused.retryAfterSeconds} s.`, {
              extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds: quota.refused.retryAfterSeconds },
            }),
          ],
        };
      }
      const { query, verdict } = await screen(partner, params);
      if (verdict.kind === 'invalid') return { errors: verdict.errors };
      if (verdict.kind === 'introspection') return { errors: [new Refusal(400, ErrorCode.BAD_USER_INPUT, 'Introspection runs over HTTP, not as a subscription.')] };
      return { query: query ?? '' };
    } catch (error) {
      if (error instanceof Refusal) return { errors: [error] };
      throw error;
    }
  }

  return { middleware, admit };
}

function send(res: Response, status: number, errors: readonly GraphQLError[]) {
  res.status(status).json({
    errors: errors.map((e) => ({
      message: e.message,
      ...(e.locations ? { locations: e.locations } : {}),
      extensions: { code: e.extensions.code, ...withoutCode(e.extensions) },
    })),
  });
}

function withoutCode(extensions: Record<string, unknown>) {
  const { code: _code, ...rest } = extensions;
  return rest;
}

function paramsFromUrl(req: Request): OperationParams {
  const search = new URL(req.originalUrl, 'http://gateway').searchParams;
  const json = (name: string) => {
    const raw = search.get(name);
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new Refusal(400, 'BAD_REQUEST', `The ${name} parameter is not valid JSON.`);
    }
  };
  return { query: search.get('query') ?? undefined, operationName: search.get('operationName') ?? undefined, variables: json('variables'), extensions: json('extensions') };
}
