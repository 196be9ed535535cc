import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { GraphQLError } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import { forbidden, unauthenticated } from '@analytica/errors';

export type Role = 'USER' | 'ADMIN';
export interface AuthUser {
  id: string;
  role: Role;
  sessionId: string;
}
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
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return createHash('sha256').update(`${jwk.n}.${jwk.e}`).digest('base64url').slice(0, 16);
}

export interface TokenSettings {
  issuer: string;
  audience: string;
}

export function createTokenIssuer(privateKeyPem: string, settings: TokenSettings & { ttlSeconds: number }) {
  const privateKey = createPrivateKey(privateKeyPem);
  const kid = keyIdOf(privateKey);
  return {
    kid,
    issue(user: AuthUser, jti: string): string {
      return jwt.sign({ role: user.role, sid: user.sessionId }, privateKey, {
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
    /** The public half, as a JSON Web Key Set for /.well-known/jwks.json. */
    jwks(): { keys: JsonWebKey[] } {
      const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
      return { keys: [{ ...jwk, kid, alg: ALGORITHM, use: 'sig' }] };
    },
  };
}

export interface VerifierOptions extends TokenSettings {
  /** Where the user service publishes its keys; fetched lazily and cached. */
  jwksUrl: string;
  cacheMs?: number;
  fetchJwks?: (url: string) => Promise<{ keys: JsonWebKey[] }>;
}

/**
 * Verifies access tokens against the published JWKS. Only RS256 is accepted, and issuer,
 * audience, expiry and not-before are always checked. Every failure is the same
 * UNAUTHENTICATED error: the reason goes to the log, never to the caller.
 */
export function createTokenVerifier(options: VerifierOptions) {
  const cacheMs = options.cacheMs ?? 5 * 60_000;
  const fetchJwks = options.fetchJwks ?? defaultFetchJwks;
  let keys = new Map<string, KeyObject>();
  let fetchedAt = 0;
  let inflight: Promise<void> | null = null;

  async function refresh() {
    inflight ??= fetchJwks(options.jwksUrl)
      .then((set) => {
        keys = new Map(
          set.keys.filter((k) => typeof k.kid === 'string').map((k) => [k.kid as string, createPublicKey({ key: k, format: 'jwk' })]),
        );
        fetchedAt = Date.now();
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  }

  async function keyFor(kid: string): Promise<KeyObject | undefined> {
    const stale = Date.now() - fetchedAt > cacheMs;
    // An unknown kid may be a freshly rotated key: refetch, but at most every 10 s.
    if (stale || (!keys.has(kid) && Date.now() - fetchedAt > 10_000)) await refresh();
    return keys.get(kid);
  }

  return {
    async verify(token: string): Promise<AuthUser> {
      const decoded = jwt.decode(token, { complete: true });
      const kid = decoded?.header.kid;
      if (!decoded || decoded.header.alg !== ALGORITHM || !kid) throw unauthenticated('The access token is not valid.');
      let key: KeyObject | undefined;
      try {
        key = await keyFor(kid);
      } catch {
        throw unauthenticated('The access token could not be checked right now; try again.');
      }
      if (!key) throw unauthenticated('The access token is not valid.');
      try {
        const claims = jwt.verify(token, key, {
          algorithms: [ALGORITHM],
          issuer: options.issuer,
          audience: options.audience,
        }) as jwt.JwtPayload;
        if (typeof claims.sub !== 'string' || (claims.role !== 'USER' && claims.role !== 'ADMIN') || typeof claims.sid !== 'string') {
          throw new Error('missing claims');
        }
        return { id: claims.sub, role: claims.role, sessionId: claims.sid };
      } catch {
        throw unauthenticated('The access token is not valid or has expired.');
      }
    },
  };
}
export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

async function defaultFetchJwks(url: string): Promise<{ keys: JsonWebKey[] }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`JWKS fetch failed: ${response.status}`);
  return (await response.json()) as { keys: JsonWebKey[] };
}

/** Reads `Authorization: Bearer <token>`; no header means anonymous, a malformed one is refused. */
export async function userFromAuthorization(header: string | undefined, verifier: TokenVerifier): Promise<AuthUser | null> {
  if (header === undefined || header === '') return null;
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(header);
  if (!match?.[1]) throw unauthenticated('The Authorization header must be "Bearer <access token>".');
  return verifier.verify(match[1]);
}

export function requireUser(ctx: AuthContext): AuthUser {
  if (!ctx.user) throw unauthenticated();
  return ctx.user;
}

/** Owners see their own objects; admins see everyone's. Everyone else is refused. */
export function assertOwnerOrAdmin(ctx: AuthContext, ownerId: string): AuthUser {
  const user = requireUser(ctx);
  if (user.id !== ownerId && user.role !== 'ADMIN') throw forbidden('This object belongs to another user.');
  return user;
}

/** type-graphql's @Authorized(): no roles means "signed in", roles limit it further. */
export const authChecker: AuthChecker<AuthContext, Role> = ({ context }, roles) => {
  const user = requireUser(context);
  if (roles.length > 0 && !roles.includes(user.role)) throw forbidden('This needs the ADMIN role.');
  return true;
};

/** The verifier every service builds from its JWKS_URL, JWT_ISSUER and JWT_AUDIENCE variables. */
export function verifierFromEnv(env: { JWKS_URL: string; JWT_ISSUER: string; JWT_AUDIENCE: string }) {
  return createTokenVerifier({ jwksUrl: env.JWKS_URL, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE });
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
    refusal.extensions.http = { status: 401 };
    return { user: null, error: refusal };
  }
}
