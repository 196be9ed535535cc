import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { GraphQLError } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import { AppError, ErrorCode, forbidden, unauthenticated } from '@analytica/errors';
import { applyRedisBudget, createRedis, Redis, redisBudgetFromEnv } from '@analytica/redis';
import { createRevocationList, revocationChannel, type RevocationList } from './revocation.js';
import { cacheRevocations } from './revocation-cache.js';

export { createRevocationList, DEFAULT_REVOCATION_TTL_SECONDS, revocationChannel, type RevocationList } from './revocation.js';
export { cacheRevocations, type RevocationCache } from './revocation-cache.js';

/**
 * USER and ADMIN are people; PARTNER is a partner company's app acting for itself (an OAuth2 client
 * credentials token from the user service's /oauth/token, `sub` = the app's client id). An app
 * acting for a consenting user gets a USER token instead, with the `partner` claim beside it.
 */
export type Role = 'USER' | 'ADMIN' | 'PARTNER';
/** For `@Authorized(ANY_CALLER)`: data that is the same for everyone (market data, news), partner apps included. */
export const ANY_CALLER: Role[] = ['USER', 'ADMIN', 'PARTNER'];
/**
 * `totp-enrolment` marks the token an administrator gets before two-factor authentication is set
 * up: it is good for enrolling an authenticator and nothing else (requireUser refuses it).
 */
export type TokenScope = 'totp-enrolment';
export interface AuthUser {
  id: string;
  role: Role;
  sessionId: string;
  scope?: TokenScope;
  /** Present when a partner app holds the token: its own (role PARTNER) or a consenting user's (role USER). */
  partner?: PartnerClaim;
}

/** What a partner app may do with the one GraphQL endpoint: scopes it was given, and the limits the gateway enforces. */
export const PARTNER_SCOPES = ['read', 'user:read'] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];
/** Bounds of an app's quotas, shared by the user service (which validates them) and the verifier. */
export const PARTNER_LIMITS = {
  ratePerMinute: { min: 1, max: 100_000 },
  dailyQuota: { min: 1, max: 100_000_000 },
} as const;
/** A contract is named like a DNS label: lower case, digits and dashes, 2 to 63 characters. */
export const CONTRACT_NAME = /^[a-z][a-z0-9-]{1,62}$/;

/**
 * The `partner` claim of a partner app's access token: which partner and app, the contract (the
 * filtered API schema the gateway serves it), and the quotas the gateway applies per app.
 */
export interface PartnerClaim {
  /** The partner's id. */
  id: string;
  /** The app's OAuth2 client id. */
  appId: string;
  contract: string;
  scopes: string[];
  /** The gateway accepts only the app's registered (persisted) operations. */
  trustedDocumentsOnly: boolean;
  ratePerMinute: number;
  dailyQuota: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PARTNER_CLAIM_KEYS = ['id', 'appId', 'contract', 'scopes', 'trustedDocumentsOnly', 'ratePerMinute', 'dailyQuota'].sort().join();
const within = (value: unknown, bounds: { min: number; max: number }) => Number.isInteger(value) && (value as number) >= bounds.min && (value as number) <= bounds.max;

/**
 * The claim exactly as the user service signs it, or null: the gateway sizes quotas and picks the
 * contract from it, so a claim with a missing, extra or out-of-range field is not guessed at.
 */
function partnerClaimOf(value: unknown): PartnerClaim | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const claim = value as Record<string, unknown>;
  if (Object.keys(claim).sort().join() !== PARTNER_CLAIM_KEYS) return null;
  const { id, appId, contract, scopes, trustedDocumentsOnly, ratePerMinute, dailyQuota } = claim;
  if (typeof id !== 'string' || !UUID.test(id) || typeof appId !== 'string' || !UUID.test(appId)) return null;
  if (typeof contract !== 'string' || !CONTRACT_NAME.test(contract)) return null;
  if (!Array.isArray(scopes) || scopes.length === 0 || new Set(scopes).size !== scopes.length) return null;
  if (!scopes.every((scope) => (PARTNER_SCOPES as readonly unknown[]).includes(scope))) return null;
  if (typeof trustedDocumentsOnly !== 'boolean') return null;
  if (!within(ratePerMinute, PARTNER_LIMITS.ratePerMinute) || !within(dailyQuota, PARTNER_LIMITS.dailyQuota)) return null;
  return { id, appId, contract, scopes: [...(scopes as string[])], trustedDocumentsOnly, ratePerMinute: ratePerMinute as number, dailyQuota: dailyQuota as number };
}

/** A copy, so that nobody who is handed a verified user can change what the verifier cached. */
const copyOf = (user: AuthUser): AuthUser => ({ ...user, ...(user.partner ? { partner: { ...user.partner, scopes: [...user.partner.scopes] } } : {}) });
/** What every subgraph's GraphQL context carries: the verified caller, or null for anonymous. */
export interface AuthContext {
  user: AuthUser | null;
}

const ALGORITHM = 'RS256';

export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A key id derived from the public key, so that every service computes the same one. */
export function keyIdOf(key: KeyObject): string {
  const jwk = publicHalf(key).export({ format: 'jwk' });
  return createHash('sha256').update(`${jwk.n}.${jwk.e}`).digest('base64url').slice(0, 16);
}

const publicHalf = (key: KeyObject) => (key.type === 'public' ? key : createPublicKey(key));

export interface TokenSettings {
  issuer: string;
  audience: string;
}

export interface IssuerOptions extends TokenSettings {
  ttlSeconds: number;
  /**
   * Public keys published beside the signing key (PEM): during a key rotation, the previous key,
   * so that tokens it signed keep verifying until they expire.
   */
  previousPublicKeys?: string[];
}

export function createTokenIssuer(privateKeyPem: string, settings: IssuerOptions) {
  const privateKey = createPrivateKey(privateKeyPem);
  const kid = keyIdOf(privateKey);
  const published = new Map<string, JsonWebKey>();
  for (const key of [privateKey, ...(settings.previousPublicKeys ?? []).map((pem) => createPublicKey(pem))]) {
    const id = keyIdOf(key);
    if (!published.has(id)) published.set(id, { ...publicHalf(key).export({ format: 'jwk' }), kid: id, alg: ALGORITHM, use: 'sig' });
  }
  const jwks = { keys: [...published.values()] };
  return {
    kid,
    issue(user: AuthUser, jti: string): string {
      const claims = {
        role: user.role,
        sid: user.sessionId,
        ...(user.scope ? { scope: user.scope } : {}),
        // Field by field: the verifier refuses a claim with anything more or less.
        ...(user.partner ? { partner: partnerClaimFields(user.partner) } : {}),
      };
      return jwt.sign(claims, privateKey, {
        algorithm: ALGORITHM,
        keyid: kid,
        issuer: settings.issuer,
        audience: settings.audience,
        subject: user.id,
        expiresIn: settings.ttlSeconds,
        notBefore: 0,
        jwtid: jti,
      });
    },
    /** The public halves, as a JSON Web Key Set for /.well-known/jwks.json: the signing key first. */
    jwks(): { keys: JsonWebKey[] } {
      return jwks;
    },
  };
}

function partnerClaimFields(p: PartnerClaim): PartnerClaim {
  return {
    id: p.id,
    appId: p.appId,
    contract: p.contract,
    scopes: [...p.scopes],
    trustedDocumentsOnly: p.trustedDocumentsOnly,
    ratePerMinute: p.ratePerMinute,
    dailyQuota: p.dailyQuota,
  };
}

export interface VerifierOptions extends TokenSettings {
  /** Where the user service publishes its keys; fetched lazily and cached. */
  jwksUrl: string;
  cacheMs?: number;
  /** A token naming an unknown key refetches the set (a rotation), at most this often. */
  refetchUnknownKidAfterMs?: number;
  fetchJwks?: (url: string) => Promise<{ keys: JsonWebKey[] }>;
  /** Checked after the signature: a revoked session or a disabled user is refused. */
  revocation?: RevocationList;
  /**
   * The outage rule (AUTH_REVOCATION_GRACE_SECONDS, default 60): when the revocation list cannot
   * answer, a token whose session this verifier saw not revoked within this many seconds is let
   * through; otherwise SERVICE_UNAVAILABLE. 0 fails closed at once.
   */
  revocationGraceSeconds?: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<AuthUser>;
  /** Releases what the verifier opened (its Redis connection); a no-op otherwise. */
  close(): Promise<void>;
}

/** Longest lifetime any access token may claim, whatever its exp says (ACCESS_TOKEN_TTL_SECONDS is at most 3600). */
const MAX_TOKEN_AGE_SECONDS = 3600;
const NOT_VALID = 'The access token is not valid or has expired.';

/**
 * Verifies access tokens against the published JWKS (RFC 8725): only RS256 is accepted, the key is
 * chosen by `kid`, and issuer, audience, expiry and not-before are always checked; then the session
 * is looked up in the revocation list. Every failure is the same UNAUTHENTICATED error: the reason
 * never reaches the caller.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const cacheMs = options.cacheMs ?? 5 * 60_000;
  const refetchAfterMs = options.refetchUnknownKidAfterMs ?? 10_000;
  const fetchJwks = options.fetchJwks ?? defaultFetchJwks;
  let keys = new Map<string, KeyObject>();
  let fetchedAt = 0;
  let inflight: Promise<void> | null = null;
  // A client sends the same token with every request until it expires: its signature and claims
  // are checked once (keyed by the whole token, signature included, so nothing can be forged into
  // the cache). The revocation lookup still runs every time (revocation-cache.ts may answer it).
  const checked = new Map<string, { user: AuthUser; exp: number; iat: number }>();
  const CHECKED_MAX = 10_000;

  async function refresh() {
    inflight ??= fetchJwks(options.jwksUrl)
      .then((set) => {
        const next = new Map<string, KeyObject>();
        for (const k of set.keys) {
          // Only RSA signing keys for RS256; anything else in the set is ignored rather than trusted.
          if (typeof k.kid !== 'string' || k.kty !== 'RSA' || (k.alg !== undefined && k.alg !== ALGORITHM) || (k.use !== undefined && k.use !== 'sig')) continue;
          next.set(k.kid, createPublicKey({ key: k, format: 'jwk' }));
        }
        keys = next;
        fetchedAt = Date.now();
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  }

  async function keyFor(kid: string): Promise<KeyObject | undefined> {
    const stale = Date.now() - fetchedAt > cacheMs;
    // An unknown kid may be a freshly rotated key: refetch, but not more often than refetchAfterMs,
    // so that tokens with made-up kids cannot turn every request into a JWKS fetch.
    if (stale || (!keys.has(kid) && Date.now() - fetchedAt > refetchAfterMs)) await refresh();
    return keys.get(kid);
  }

  const graceMs = (options.revocationGraceSeconds ?? DEFAULT_REVOCATION_GRACE_SECONDS) * 1000;
  // The last verdict Redis gave per session (and partner token), kept only for the outage rule:
  // while Redis answers, every request is checked there (or by the revocation cache, which every
  // published revocation empties), so a revocation takes effect at once.
  const verdicts = new Map<string, { revoked: boolean; at: number }>();
  const VERDICTS_MAX = 50_000;

  async function revocationChecked(user: AuthUser, issuedAt: number): Promise<AuthUser> {
    if (!options.revocation) return copyOf(user);
    // A partner's token is refused by its issue time, so its verdict is per token rather than per session.
    const key = user.partner ? `${user.id}\0${user.sessionId}\0${user.partner.id}\0${user.partner.appId}\0${issuedAt}` : `${user.id}\0${user.sessionId}`;
    let revoked: boolean;
    try {
      // The issue time matters for partners' tokens: revoking a partner refuses those issued up to then.
      revoked = await options.revocation.isRevoked({ id: user.id, sessionId: user.sessionId, issuedAt, ...(user.partner ? { partner: user.partner } : {}) });
    } catch (error) {
      // "Cannot tell" is no verdict on the token. Within the grace window the last verdict stands:
      // a session seen not revoked is let through, so a short Redis outage does not sign everyone
      // out, and one seen revoked stays refused. Anything else is refused as an outage (503),
      // never as a bad token (401), which would make clients drop the session. An old "revoked"
      // is not trusted either: a disabled user may have been enabled again since.
      const known = verdicts.get(key);
      if (known && Date.now() - known.at <= graceMs) {
        if (known.revoked) throw unauthenticated(NOT_VALID);
        return copyOf(user);
      }
      throw unavailable('redis', retryAfterOf(error));
    }
    remember(key, revoked);
    if (revoked) throw unauthenticated(NOT_VALID);
    return copyOf(user);
  }

  function remember(key: string, revoked: boolean) {
    // Re-inserted so that the Map's order is the order of last use: the oldest goes first when full.
    verdicts.delete(key);
    if (verdicts.size >= VERDICTS_MAX) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(key, { revoked, at: Date.now() });
  }

  return {
    async verify(token: string): Promise<AuthUser> {
      const cached = checked.get(token);
      if (cached && cached.exp > Date.now() / 1000) return revocationChecked(cached.user, cached.iat);
      let decoded: jwt.Jwt | null = null;
      try {
        decoded = jwt.decode(token, { complete: true });
      } catch {
        decoded = null;
      }
      const kid = decoded?.header.kid;
      if (!decoded || decoded.header.alg !== ALGORITHM || typeof kid !== 'string' || kid.length > 128) throw unauthenticated(NOT_VALID);
      let key: KeyObject | undefined;
      try {
        key = await keyFor(kid);
      } catch {
        throw unavailable('jwks', 5);
      }
      if (!key) throw unauthenticated(NOT_VALID);
      let user: AuthUser;
      let issuedAt: number;
      try {
        const claims = jwt.verify(token, key, {
          algorithms: [ALGORITHM],
          issuer: options.issuer,
          audience: options.audience,
          maxAge: MAX_TOKEN_AGE_SECONDS,
          // Services' clocks differ a little: a token signed a second "in the future" is still fine.
          clockTolerance: 5,
        }) as jwt.JwtPayload;
        if (
          typeof claims.sub !== 'string' ||
          (claims.role !== 'USER' && claims.role !== 'ADMIN' && claims.role !== 'PARTNER') ||
          typeof claims.sid !== 'string' ||
          typeof claims.jti !== 'string' ||
          typeof claims.exp !== 'number' ||
          // jsonwebtoken checks exp, nbf and the age from iat, but not an iat in the future.
          typeof claims.iat !== 'number' ||
          claims.iat > Date.now() / 1000 + 5 ||
          (claims.scope !== undefined && claims.scope !== 'totp-enrolment')
        ) {
          throw new Error('missing claims');
        }
        const partner = claims.partner === undefined ? undefined : partnerClaimOf(claims.partner);
        if (partner === null) throw new Error('malformed partner claim');
        // An app's own token names the app as subject and session; a partner never holds an admin
        // token nor an enrolment-only one; and the PARTNER role is nothing without its claim.
        if (claims.role === 'PARTNER' && (!partner || claims.sub !== partner.appId || claims.sid !== partner.appId)) throw new Error('bad partner token');
        if (partner && (claims.role === 'ADMIN' || claims.scope !== undefined)) throw new Error('bad partner token');
        user = {
          id: claims.sub,
          role: claims.role,
          sessionId: claims.sid,
          ...(claims.scope ? { scope: claims.scope as TokenScope } : {}),
          ...(partner ? { partner } : {}),
        };
        if (checked.size >= CHECKED_MAX) checked.delete(checked.keys().next().value!);
        checked.set(token, { user, exp: claims.exp, iat: claims.iat });
        issuedAt = claims.iat;
      } catch {
        throw unauthenticated(NOT_VALID);
      }
      return revocationChecked(user, issuedAt);
    },
    async close() {},
  };
}

async function defaultFetchJwks(url: string): Promise<{ keys: JsonWebKey[] }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`JWKS fetch failed: ${response.status}`);
  return (await response.json()) as { keys: JsonWebKey[] };
}

/** Reads `Authorization: Bearer <token>`; no header means anonymous, a malformed one is refused. */
/**
 * When an already verified token expires (ms since the epoch), read from its `exp` claim without
 * checking anything: for timers that end a session's connections, never for a decision to trust it.
 */
export function tokenExpiresAt(token: string): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

async function userFromAuthorization(header: string | undefined, verifier: TokenVerifier): Promise<AuthUser | null> {
  if (header === undefined || header === '') return null;
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(header);
  if (!match?.[1]) throw unauthenticated('The Authorization header must be "Bearer <access token>".');
  return verifier.verify(match[1]);
}

/**
 * Any verified caller with a full token, a partner app's own token included: for data that is the
 * same for everyone (market data, news). An enrolment-only token is refused with FORBIDDEN.
 */
export function requireCaller(ctx: AuthContext): AuthUser {
  if (!ctx.user) throw unauthenticated();
  if (ctx.user.scope === 'totp-enrolment') {
    throw forbidden('Set up two-factor authentication first: this sign-in may only enrol an authenticator app (beginTotpEnrolment, then confirmTotpEnrolment).');
  }
  return ctx.user;
}

/**
 * The signed-in user (or admin) with a full token. An enrolment-only token and a partner app's own
 * token are refused with FORBIDDEN: an app has no data of its own, and acts for a user only with a
 * consent token (role USER, the user's id), to which every ownership rule applies unchanged.
 */
export function requireUser(ctx: AuthContext): AuthUser {
  const caller = requireCaller(ctx);
  if (caller.role === 'PARTNER') {
    throw forbidden("A partner app reads user data only with a token for a consenting user: ask /oauth/token with the user's user_id.");
  }
  return caller;
}

/** Any signed-in caller, an enrolment-only token included: only for enrolling two-factor authentication. */
export function requireSignedIn(ctx: AuthContext): AuthUser {
  if (!ctx.user) throw unauthenticated();
  return ctx.user;
}

/** Owners see their own objects; admins see everyone's. Everyone else is refused. */
export function assertOwnerOrAdmin(ctx: AuthContext, ownerId: string): AuthUser {
  const user = requireUser(ctx);
  if (user.id !== ownerId && user.role !== 'ADMIN') throw forbidden('This object belongs to another user.');
  return user;
}

/**
 * type-graphql's @Authorized(): no roles means "signed in" (people and consent tokens), roles limit
 * it further. A partner app's own token gets through only where the roles name PARTNER, as
 * ANY_CALLER does for public data.
 */
export const authChecker: AuthChecker<AuthContext, Role> = ({ context }, roles) => {
  const caller = roles.includes('PARTNER') ? requireCaller(context) : requireUser(context);
  if (roles.length > 0 && !roles.includes(caller.role)) {
    throw forbidden(roles.length === 1 ? `This needs the ${roles[0]} role.` : `This needs one of the roles ${roles.join(', ')}.`);
  }
  return true;
};

export interface TokenEnv {
  JWKS_URL: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  REDIS_URL: string;
  REDIS_KEY_PREFIX: string;
  /** packages/config tokenEnv; absent: the defaults. */
  AUTH_REVOCATION_GRACE_SECONDS?: number;
  AUTH_REVOCATION_CACHE_SECONDS?: number;
  REDIS_COMMAND_TIMEOUT_MS?: number;
  REDIS_BREAKER_FAILURES?: number;
  REDIS_BREAKER_OPEN_MS?: number;
  REDIS_MAX_PENDING?: number;
  REDIS_RECONNECT_MAX_DELAY_MS?: number;
}

/**
 * The verifier every service builds from its tokenEnv variables: keys from JWKS_URL, revocations
 * from Redis (its own connection unless one is passed; close() releases it).
 */
export function verifierFromEnv(env: TokenEnv, deps: { redis?: Redis } = {}): TokenVerifier {
  // Every token check is on a request path: a connection of its own is made with the Redis budget;
  // a given one keeps its own (createRedis's `budget`), or is put on this one if it was made without.
  const budget = redisBudgetFromEnv(env);
  const redis = deps.redis ?? createRedis(env.REDIS_URL, { keyPrefix: env.REDIS_KEY_PREFIX, name: 'token-revocation', budget });
  applyRedisBudget(redis, budget);
  const revocation = revocationListFor(redis, (env.AUTH_REVOCATION_CACHE_SECONDS ?? DEFAULT_REVOCATION_CACHE_SECONDS) * 1000);
  const verifier = createTokenVerifier({
    jwksUrl: env.JWKS_URL,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    revocation,
    revocationGraceSeconds: env.AUTH_REVOCATION_GRACE_SECONDS,
  });
  return {
    verify: verifier.verify,
    async close() {
      await revocation.close();
      if (!deps.redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Authenticates one request. A missing token is anonymous (sign-up and sign-in need no token);
 * a bad one is kept as `error` so that the server refuses the whole request with it.
 */
export async function authenticate(header: string | undefined, verifier: TokenVerifier): Promise<{ user: AuthUser | null; error?: GraphQLError }> {
  try {
    return { user: await userFromAuthorization(header, verifier) };
  } catch (error) {
    const refusal = error instanceof GraphQLError ? error : unauthenticated('The access token is not valid.');
    if (refusal.extensions.code === ErrorCode.SERVICE_UNAVAILABLE) {
      // An outage of what checks tokens: 503 with Retry-After, so that clients keep the token and retry.
      refusal.extensions.http = { status: 503, headers: new Map([['retry-after', String(refusal.extensions.retryAfterSeconds ?? 1)]]) };
    } else {
      refusal.extensions.http = { status: 401 };
    }
    return { user: null, error: refusal };
  }
}

/**
 * The revocation list on `redis`, with "not revoked" verdicts kept `cacheMs` and dropped by every
 * published revocation (revocation-cache.ts) over a connection of its own. Not cached with
 * `cacheMs` 0, nor on npm start's in-process stand-in (one process, nothing to save).
 */
export function revocationListFor(redis: Redis, cacheMs: number, listOptions: Parameters<typeof createRevocationList>[1] = {}): RevocationList & { close(): Promise<void> } {
  const list = createRevocationList(redis, listOptions);
  if (cacheMs <= 0 || !(redis instanceof Redis)) return { ...list, close: async () => {} };
  const notices = redis.duplicate({ connectionName: 'token-revocation-notices' });
  // ioredis reconnects by itself; the cache stops while it does (revocation-cache.ts).
  notices.on('error', () => {});
  return cacheRevocations(list, { notices, channel: revocationChannel(redis), ttlMs: cacheMs });
}

/** AUTH_REVOCATION_CACHE_SECONDS' default: see revocation-cache.ts. */
export const DEFAULT_REVOCATION_CACHE_SECONDS = 5;

/** AUTH_REVOCATION_GRACE_SECONDS' default: see VerifierOptions.revocationGraceSeconds. */
export const DEFAULT_REVOCATION_GRACE_SECONDS = 60;

const retryAfterOf = (error: unknown) => {
  const seconds = (error as { retryAfterSeconds?: unknown } | null | undefined)?.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 1 ? Math.ceil(seconds) : 1;
};

/**
 * The check itself could not run (Redis or the JWKS unreachable): not a verdict on the token, so
 * SERVICE_UNAVAILABLE naming what is down, with when to try again, and never UNAUTHENTICATED.
 * `transient` tells the gateway's subscriptions to keep a socket open and check again later.
 */
function unavailable(serviceName: 'redis' | 'jwks', retryAfterSeconds: number) {
  const what = serviceName === 'redis' ? 'the revocation list (Redis) is not answering' : 'the signing keys (JWKS) cannot be fetched';
  return new AppError(ErrorCode.SERVICE_UNAVAILABLE, `The access token could not be checked right now: ${what}. Keep the token and try again in ${retryAfterSeconds} s.`, {
    serviceName,
    retryAfterSeconds,
    transient: true,
  });
}
