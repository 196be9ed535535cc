import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthUser, PartnerClaim, RevocationList } from '@analytica/auth';
import { ErrorCode } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import type { Database } from '@analytica/postgres';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import type { LoginLimits } from '../limits.js';
import { authenticateClient, CONSENT_SCOPE, consentInForce } from './partners.js';

/**
 * POST /oauth/token: OAuth2 client credentials (RFC 6749 §4.4) for partner apps. The gateway
 * forwards /oauth/token here, so partners use the one endpoint.
 *
 * - The client authenticates with its id and secret in the body or with HTTP Basic (§2.3.1), one
 *   way only. The body is form-encoded (as the RFC has it) or JSON.
 * - Without `user_id`: a token for the app itself (`sub` and `sid` = the app's client id, role
 *   PARTNER), good for public data only.
 * - With `user_id`: a token acting for that user (`sub` = the user, role USER, `sid` = the consent's
 *   id), only while the user's consent to the partner is in force and the app has scope user:read.
 *   Revoking the consent revokes these tokens like a signed-out session.
 * - Both carry the `partner` claim: partner, app, contract, scopes and quotas, for the gateway.
 *
 * Refusals are §5.2 JSON (`error`, `error_description`) plus `code`, the GraphQL error code the
 * rest of the API uses. Failed client authentications count towards the sign-in lockouts (per
 * client id and per address), so secrets cannot be guessed here either.
 */

export interface TokenEndpointDeps {
  db: Pick<Database, 'fork'>;
  issue(user: AuthUser, jti: string): string;
  ttlSeconds: number;
  revocations: RevocationList;
  limits: LoginLimits;
  logger: Logger;
}

type OAuthError = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type' | 'server_error';

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthError,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 8 * 1024;
const CLIENT_FAILED = 'Client authentication failed: unknown client, or a wrong or expired client secret.';
/** Lockout counters are shared with sign-in; the prefix keeps a client id apart from any email. */
const limitKey = (clientId: string) => `oauth-client:${clientId}`;

export function createTokenEndpoint(deps: TokenEndpointDeps) {
  return async (req: IncomingMessage & { ip?: string }, res: ServerResponse): Promise<void> => {
    // RFC 6749 §5.1: tokens must never be cached, by the client's stack or anyone in between.
    res.setHeader('cache-control', 'no-store');
    res.setHeader('pragma', 'no-cache');
    try {
      const answer = await tokenRequest(deps, req);
      send(res, 200, answer);
    } catch (error) {
      if (error instanceof Refusal) {
        for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
        send(res, error.status, { error: error.error, error_description: error.message, code: error.code });
        return;
      }
      deps.logger.error({ err: error }, 'token request failed');
      send(res, 500, { error: 'server_error', error_description: 'Something went wrong on our side; try again.', code: ErrorCode.INTERNAL_SERVER_ERROR });
    }
  };
}

function send(res: ServerResponse, status: number, body: object) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

async function tokenRequest(deps: TokenEndpointDeps, req: IncomingMessage & { ip?: string }) {
  const ip = req.ip ?? req.socket.remoteAddress ?? null;
  const params = await readParams(req);
  // §3.2: a parameter sent twice is refused rather than guessed at.
  const repeated = [...new Set(params.keys())].find((name) => params.getAll(name).length > 1);
  if (repeated) throw new Refusal(400, 'invalid_request', ErrorCode.BAD_USER_INPUT, `Send ${repeated} once.`);
  const grantType = params.get('grant_type');
  if (!grantType) throw new Refusal(400, 'invalid_request', ErrorCode.BAD_USER_INPUT, 'Send grant_type=client_credentials.');
  if (grantType !== 'client_credentials') {
    throw new Refusal(400, 'unsupported_grant_type', ErrorCode.BAD_USER_INPUT, 'Only grant_type=client_credentials is supported.');
  }
  const { clientId, clientSecret } = clientCredentials(req, params);
  const em = deps.db.fork();
  const meta: RequestMeta = { ip, actorId: null, sessionId: null };

  const wait = await deps.limits.loginRetryAfter(limitKey(clientId), ip);
  if (wait > 0) {
    throw new Refusal(429, 'invalid_client', ErrorCode.RATE_LIMITED, `Too many failed client authentications; try again in ${wait} s.`, { 'retry-after': String(wait) });
  }
  const client = await authenticateClient(em, clientId, clientSecret);
  if (!client) {
    await deps.limits.loginFailed(limitKey(clientId), ip);
    await audit(em, AuditAction.PARTNER_CLIENT_AUTH_FAILED, meta, { detail: { clientId: clientId.slice(0, 64) } });
    throw new Refusal(401, 'invalid_client', ErrorCode.UNAUTHENTICATED, CLIENT_FAILED, { 'www-authenticate': 'Basic realm="analytica"' });
  }
  await deps.limits.loginSucceeded(limitKey(clientId));
  const { app, partner } = client;
  if (partner.status !== 'ACTIVE') {
    throw new Refusal(401, 'invalid_client', ErrorCode.FORBIDDEN, 'The partner is suspended: its apps get no tokens until an administrator reinstates it.');
  }

  const scopes = grantedScopes(params.get('scope'), app.scopes);
  const claim: PartnerClaim = {
    id: partner.id,
    appId: app.id,
    contract: partner.contract,
    scopes,
    trustedDocumentsOnly: app.trustedDocumentsOnly,
    ratePerMinute: app.ratePerMinute,
    dailyQuota: app.dailyQuota,
  };

  let user: AuthUser;
  const userId = params.get('user_id');
  if (userId !== null) {
    if (!scopes.includes(CONSENT_SCOPE)) {
      throw new Refusal(400, 'invalid_scope', ErrorCode.FORBIDDEN, `Acting for a user needs the ${CONSENT_SCOPE} scope, which this app was not given (or did not ask for).`);
    }
    const consent = await consentInForce(em, userId, partner.id);
    // An unknown, disabled or unconsenting user: one answer, so that user ids cannot be probed.
    if (!consent) throw new Refusal(400, 'invalid_grant', ErrorCode.NOT_FOUND, `No consent of user ${userId.slice(0, 64)} to ${partner.name} is in force.`);
    user = { id: userId, role: 'USER', sessionId: consent.id, partner: claim };
    await audit(em, AuditAction.PARTNER_CONSENT_TOKEN_ISSUED, meta, { subjectId: userId, detail: { partnerId: partner.id, appId: app.id, consentId: consent.id } });
  } else {
    user = { id: app.id, role: 'PARTNER', sessionId: app.id, partner: claim };
  }

  await afterLastRevocation(deps.revocations, claim);
  return { access_token: deps.issue(user, randomUUID()), token_type: 'Bearer', expires_in: deps.ttlSeconds, scope: scopes.join(' ') };
}

/**
 * A revoked partner or app refuses tokens issued at or before the second of the revocation (JWT
 * times are whole seconds). A token issued in that same second, after a quick reinstatement, would
 * be refused on arrival: wait for the next second instead (at most one, and only right then).
 */
async function afterLastRevocation(revocations: RevocationList, claim: PartnerClaim) {
  const revokedAt = await revocations.partnerRevokedAt({ id: claim.id, appId: claim.appId });
  if (revokedAt === null) return;
  const wait = (revokedAt + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 1000)));
}

/** `scope` may narrow the app's scopes (§3.3); asking for one the app lacks is refused. */
function grantedScopes(requested: string | null, appScopes: string[]): string[] {
  if (requested === null || requested.trim() === '') return [...appScopes];
  const asked = [...new Set(requested.trim().split(/\s+/))];
  const extra = asked.filter((scope) => !appScopes.includes(scope));
  if (extra.length) throw new Refusal(400, 'invalid_scope', ErrorCode.BAD_USER_INPUT, `Ask only for scopes of this app (${appScopes.join(' ')}), not ${extra.join(' ')}.`);
  return appScopes.filter((scope) => asked.includes(scope));
}

/** Basic (§2.3.1: both parts form-encoded before base64) or the body; using both is refused (§2.3). */
function clientCredentials(req: IncomingMessage, params: URLSearchParams): { clientId: string; clientSecret: string } {
  const header = req.headers.authorization;
  const inBody = params.has('client_id') || params.has('client_secret');
  if (header !== undefined) {
    if (inBody) throw new Refusal(400, 'invalid_request', ErrorCode.BAD_USER_INPUT, 'Authenticate the client one way only: HTTP Basic or client_id and client_secret in the body.');
    const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
    const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 1)
      throw new Refusal(401, 'invalid_client', ErrorCode.UNAUTHENTICATED, 'Send "Authorization: Basic base64(client_id:client_secret)".', {
        'www-authenticate': 'Basic realm="analytica"',
      });
    try {
      return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
    } catch {
      throw new Refusal(401, 'invalid_client', ErrorCode.UNAUTHENTICATED, CLIENT_FAILED, { 'www-authenticate': 'Basic realm="analytica"' });
    }
  }
  const clientId = params.get('client_id');
  const clientSecret = params.get('client_secret');
  if (!clientId || !clientSecret) {
    throw new Refusal(401, 'invalid_client', ErrorCode.UNAUTHENTICATED, 'Authenticate the client: client_id and client_secret in the body, or HTTP Basic.', {
      'www-authenticate': 'Basic realm="analytica"',
    });
  }
  return { clientId, clientSecret };
}

const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));

/** The request's parameters from a form-encoded or a JSON body (string values only), at most 8 KiB. */
async function readParams(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded' && type !== 'application/json') {
    throw new Refusal(400, 'invalid_request', ErrorCode.BAD_USER_INPUT, 'Send the parameters as application/x-www-form-urlencoded (or JSON).');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, 'invalid_request', ErrorCode.BAD_USER_INPUT, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return new URLSearchParams(text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Refusal(400, 'invalid_request', ErrorCode.BAD_USER_INPUT, 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refusal(400, 'invalid_request', ErrorCode.BAD_USER_INPUT, 'Send a JSON object.');
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') throw new Refusal(400, 'invalid_request', ErrorCode.BAD_USER_INPUT, `Send ${name} as a string.`);
    params.set(name, value);
  }
  return params;
}
