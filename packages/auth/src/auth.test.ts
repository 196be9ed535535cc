import { createHmac, createPrivateKey, createPublicKey, createSign, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '@analytica/redis';
import {
  ANY_CALLER,
  authChecker,
  authenticate,
  createRevocationList,
  createTokenIssuer,
  createTokenVerifier,
  generateSigningKeyPem,
  keyIdOf,
  requireCaller,
  requireSignedIn,
  requireUser,
  type AuthUser,
  type PartnerClaim,
  type Role,
} from './index.js';

const SETTINGS = { issuer: 'analytica', audience: 'analytica-api' };
const currentPem = generateSigningKeyPem();
const previousPem = generateSigningKeyPem();
const strangerPem = generateSigningKeyPem();
const current = createTokenIssuer(currentPem, { ...SETTINGS, ttlSeconds: 900 });
const previous = createTokenIssuer(previousPem, { ...SETTINGS, ttlSeconds: 900 });
const kidOf = (pem: string) => keyIdOf(createPrivateKey(pem));
const publicPemOf = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();

// The in-process Redis stand-in: the same client the embedded mode uses, shared by every instance.
const redis = createRedis('memory://', { keyPrefix: `auth-test-${randomUUID()}:` });
const revocations = createRevocationList(redis);
afterAll(() => redis.disconnect());

const verifierFor = (jwks: () => { keys: object[] }, extra: Partial<Parameters<typeof createTokenVerifier>[0]> = {}) =>
  createTokenVerifier({ jwksUrl: 'test', ...SETTINGS, fetchJwks: async () => jwks() as never, revocation: revocations, ...extra });
const verifier = verifierFor(() => current.jwks());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => ({
  sub: randomUUID(),
  role: 'USER',
  sid: randomUUID(),
  jti: randomUUID(),
  iss: SETTINGS.issuer,
  aud: SETTINGS.audience,
  iat: now(),
  nbf: now(),
  exp: now() + 900,
  ...overrides,
});
/** Signs by hand, so that a test can build exactly the token an attacker would send. */
function rs256(payload: object, pem = currentPem, header: Record<string, unknown> = {}) {
  const signingInput = `${b64({ alg: 'RS256', typ: 'JWT', kid: kidOf(pem), ...header })}.${b64(payload)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(createPrivateKey(pem)).toString('base64url');
  return `${signingInput}.${signature}`;
}

async function refusal(token: string): Promise<string> {
  try {
    await verifier.verify(token);
  } catch (error) {
    expect((error as { extensions?: { code?: string } }).extensions?.code).toBe('UNAUTHENTICATED');
    return (error as Error).message;
  }
  throw new Error('the token was accepted');
}

describe('access token verification', () => {
  it('accepts a token the user service issued and reads who is asking from it', async () => {
    const user: AuthUser = { id: randomUUID(), role: 'ADMIN', sessionId: randomUUID() };
    expect(await verifier.verify(current.issue(user, randomUUID()))).toEqual(user);
    expect(await verifier.verify(rs256(claims({ sub: user.id, sid: user.sessionId, role: 'ADMIN' })))).toEqual(user);
  });

  it('refuses every forged, stale or misdirected token with the same UNAUTHENTICATED answer', async () => {
    const good = rs256(claims());
    const [header, payload] = good.split('.');
    const publicPem = publicPemOf(currentPem);
    const hs256Input = `${b64({ alg: 'HS256', typ: 'JWT', kid: kidOf(currentPem) })}.${b64(claims())}`;
    const cases: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT', kid: kidOf(currentPem) })}.${b64(claims())}.`,
      'alg none, upper case': `${b64({ alg: 'NONE', typ: 'JWT', kid: kidOf(currentPem) })}.${b64(claims())}.`,
      'HS256 signed with the public key': `${hs256Input}.${createHmac('sha256', publicPem).update(hs256Input).digest('base64url')}`,
      'RS512 header': rs256(claims(), currentPem, { alg: 'RS512' }),
      expired: rs256(claims({ iat: now() - 2000, nbf: now() - 2000, exp: now() - 60 })),
      'not yet valid': rs256(claims({ nbf: now() + 3600, exp: now() + 4000 })),
      'issued in the future': rs256(claims({ iat: now() + 3600, nbf: now(), exp: now() + 4000 })),
      'lifetime longer than any access token': rs256(claims({ iat: now() - 7200, nbf: now() - 7200, exp: now() + 900 })),
      'wrong issuer': rs256(claims({ iss: 'someone-else' })),
      'wrong audience': rs256(claims({ aud: 'another-api' })),
      'tampered payload': `${header}.${b64({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'ADMIN' })}.${good.split('.')[2]}`,
      'unknown kid': rs256(claims(), strangerPem),
      'known kid, other key': rs256(claims(), strangerPem, { kid: kidOf(currentPem) }),
      'no kid': rs256(claims(), currentPem, { kid: undefined }),
      'no expiry': rs256(claims({ exp: undefined })),
      'no session': rs256(claims({ sid: undefined })),
      'no token id': rs256(claims({ jti: undefined })),
      'unknown role': rs256(claims({ role: 'ROOT' })),
      'unknown scope': rs256(claims({ scope: 'everything' })),
      'not a JWT': 'aGVsbG8.d29ybGQ.c2lnbmF0dXJl',
    };
    const messages = new Set<string>();
    for (const [name, token] of Object.entries(cases)) {
      messages.add(await refusal(token).catch((error: Error) => `${name}: ${error.message}`));
    }
    expect([...messages]).toEqual(['The access token is not valid or has expired.']);
  });

  it('refuses a revoked session and a disabled user at once, and stops refusing a re-enabled user', async () => {
    const user: AuthUser = { id: randomUUID(), role: 'USER', sessionId: randomUUID() };
    const sibling: AuthUser = { ...user, sessionId: randomUUID() };
    const token = current.issue(user, randomUUID());
    const siblingToken = current.issue(sibling, randomUUID());
    await revocations.revokeSessions(user.id, [user.sessionId]);
    expect(await refusal(token)).toBe('The access token is not valid or has expired.');
    expect(await verifier.verify(siblingToken)).toEqual(sibling);
    await revocations.disableUser(user.id);
    await refusal(siblingToken);
    await revocations.enableUser(user.id);
    expect(await verifier.verify(siblingToken)).toEqual(sibling);
    expect(await redis.ttl(`auth:revoked:${user.id}`)).toBeGreaterThan(3600);
  });

  it('checks a token it has seen before against the revocation list every time', async () => {
    const user: AuthUser = { id: randomUUID(), role: 'USER', sessionId: randomUUID() };
    const token = current.issue(user, randomUUID());
    expect(await verifier.verify(token)).toEqual(user);
    expect(await verifier.verify(token)).toEqual(user);
    await revocations.revokeSessions(user.id, [user.sessionId]);
    await refusal(token);
  });

  it('ignores keys in the set that are not RSA signing keys', async () => {
    const kid = kidOf(currentPem);
    const withSecret = verifierFor(() => ({ keys: [{ kty: 'oct', k: Buffer.from('secret').toString('base64url'), kid, alg: 'HS256' }] }));
    const input = `${b64({ alg: 'HS256', kid })}.${b64(claims())}`;
    await expect(withSecret.verify(`${input}.${createHmac('sha256', 'secret').update(input).digest('base64url')}`)).rejects.toThrow();
    await expect(withSecret.verify(rs256(claims()))).rejects.toThrow();
  });
});

describe('when the revocation list cannot answer (Redis down or slow)', () => {
  /** A revocation list whose reads work until `down` is set, then reject as the Redis guard does. */
  function switchable() {
    const state = { down: false };
    const list = {
      ...revocations,
      isRevoked: (token: Parameters<typeof revocations.isRevoked>[0]) =>
        state.down ? Promise.reject(Object.assign(new Error('Redis is not answering (circuit open); not asked.'), { retryAfterSeconds: 2 })) : revocations.isRevoked(token),
    };
    return { state, list };
  }
  const unavailable = {
    message: 'The access token could not be checked right now: the revocation list (Redis) is not answering. Keep the token and try again in 2 s.',
    extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'redis', retryAfterSeconds: 2, transient: true },
  };
  const someone = (): AuthUser => ({ id: randomUUID(), role: 'USER', sessionId: randomUUID() });

  it('lets a session seen not revoked within the grace window through, and refuses one never seen with SERVICE_UNAVAILABLE, not UNAUTHENTICATED', async () => {
    const { state, list } = switchable();
    const graceful = verifierFor(() => current.jwks(), { revocation: list, revocationGraceSeconds: 60 });
    const seen = someone();
    const seenToken = current.issue(seen, randomUUID());
    expect(await graceful.verify(seenToken)).toEqual(seen);
    state.down = true;
    expect(await graceful.verify(seenToken)).toEqual(seen);
    // Another token of the same session (a refresh) is the same session: also let through.
    expect(await graceful.verify(current.issue(seen, randomUUID()))).toEqual(seen);
    await expect(graceful.verify(current.issue(someone(), randomUUID()))).rejects.toMatchObject(unavailable);
  });

  it('keeps refusing a session seen revoked within the window with UNAUTHENTICATED', async () => {
    const { state, list } = switchable();
    const graceful = verifierFor(() => current.jwks(), { revocation: list, revocationGraceSeconds: 60 });
    const user = someone();
    const token = current.issue(user, randomUUID());
    await revocations.revokeSessions(user.id, [user.sessionId]);
    await expect(graceful.verify(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    state.down = true;
    await expect(graceful.verify(token)).rejects.toMatchObject({ message: 'The access token is not valid or has expired.', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('fails closed once the last verdict is older than the grace window, and at once with a window of 0', async () => {
    const { state, list } = switchable();
    const closed = verifierFor(() => current.jwks(), { revocation: list, revocationGraceSeconds: 0 });
    const user = someone();
    const token = current.issue(user, randomUUID());
    expect(await closed.verify(token)).toEqual(user);
    // An old "revoked" is no verdict either (the user may have been enabled again since).
    const disabled = someone();
    const disabledToken = current.issue(disabled, randomUUID());
    await revocations.disableUser(disabled.id);
    await expect(closed.verify(disabledToken)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    state.down = true;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(closed.verify(token)).rejects.toMatchObject(unavailable);
    await expect(closed.verify(disabledToken)).rejects.toMatchObject(unavailable);
  });

  it('still refuses a forged token with UNAUTHENTICATED: the signature is checked before Redis is asked', async () => {
    const { state, list } = switchable();
    state.down = true;
    const graceful = verifierFor(() => current.jwks(), { revocation: list, revocationGraceSeconds: 60 });
    await expect(graceful.verify(rs256(claims(), strangerPem))).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('makes authenticate answer 503 with Retry-After for an outage, 401 for a bad token', async () => {
    const { state, list } = switchable();
    state.down = true;
    const graceful = verifierFor(() => current.jwks(), { revocation: list });
    const { user, error } = await authenticate(`Bearer ${current.issue(someone(), randomUUID())}`, graceful);
    expect(user).toBeNull();
    expect(error?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', serviceName: 'redis', http: { status: 503, headers: new Map([['retry-after', '2']]) } });
  });

  it('answers SERVICE_UNAVAILABLE naming the key set when the JWKS cannot be fetched', async () => {
    const keyless = createTokenVerifier({ jwksUrl: 'test', ...SETTINGS, fetchJwks: () => Promise.reject(new Error('connection refused')), revocation: revocations });
    await expect(keyless.verify(rs256(claims()))).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'jwks', retryAfterSeconds: 5 } });
  });
});

describe('Authorization header', () => {
  it('no header is anonymous; a malformed one is refused with 401 and no detail', async () => {
    expect(await authenticate(undefined, verifier)).toEqual({ user: null });
    for (const header of ['Basic Zm9vOmJhcg==', 'Bearer', 'Bearer ', 'bearer x.y.z', 'Bearer a.b', `Bearer ${'a'.repeat(10)} x`, 'Token x.y.z']) {
      const { user, error } = await authenticate(header, verifier);
      expect(user).toBeNull();
      expect(error?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    }
  });
});

describe('two-factor enrolment tokens', () => {
  it('are refused by requireUser (and so by @Authorized) but accepted by requireSignedIn', async () => {
    const admin: AuthUser = { id: randomUUID(), role: 'ADMIN', sessionId: randomUUID(), scope: 'totp-enrolment' };
    const user = await verifier.verify(current.issue(admin, randomUUID()));
    expect(user.scope).toBe('totp-enrolment');
    expect(() => requireUser({ user })).toThrow(expect.objectContaining({ extensions: { code: 'FORBIDDEN' } }));
    expect(requireSignedIn({ user })).toBe(user);
  });
});

describe('key rotation', () => {
  it('publishes the signing key and the previous one, and verifies tokens of both', async () => {
    const rotated = createTokenIssuer(currentPem, { ...SETTINGS, ttlSeconds: 900, previousPublicKeys: [publicPemOf(previousPem)] });
    expect(rotated.jwks().keys.map((k) => k.kid)).toEqual([kidOf(currentPem), kidOf(previousPem)]);
    expect(rotated.jwks().keys.every((k) => k.d === undefined)).toBe(true);
    const both = verifierFor(() => rotated.jwks());
    const user: AuthUser = { id: randomUUID(), role: 'USER', sessionId: randomUUID() };
    expect(await both.verify(previous.issue(user, randomUUID()))).toEqual(user);
    expect(await both.verify(rotated.issue(user, randomUUID()))).toEqual(user);
  });

  it('a verifier that cached the old set fetches it again for a new kid, and drops the old key once it is unpublished', async () => {
    let published = previous.jwks();
    let fetches = 0;
    const cached = verifierFor(
      () => {
        fetches++;
        return published;
      },
      { cacheMs: 60_000, refetchUnknownKidAfterMs: 0 },
    );
    const user: AuthUser = { id: randomUUID(), role: 'USER', sessionId: randomUUID() };
    const oldToken = previous.issue(user, randomUUID());
    expect(await cached.verify(oldToken)).toEqual(user);
    // Step 1 of a rotation: the new key signs, the old one is still published.
    published = createTokenIssuer(currentPem, { ...SETTINGS, ttlSeconds: 900, previousPublicKeys: [publicPemOf(previousPem)] }).jwks();
    expect(await cached.verify(current.issue(user, randomUUID()))).toEqual(user);
    expect(fetches).toBe(2);
    expect(await cached.verify(oldToken)).toEqual(user);
    // Step 2, once the old tokens have expired: the old key is no longer published.
    published = current.jwks();
    const strict = verifierFor(() => published, { cacheMs: 0 });
    await expect(strict.verify(oldToken)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('does not refetch the key set for every made-up kid', async () => {
    let fetches = 0;
    const throttled = verifierFor(() => {
      fetches++;
      return current.jwks();
    });
    await throttled.verify(current.issue({ id: randomUUID(), role: 'USER', sessionId: randomUUID() }, randomUUID()));
    for (let i = 0; i < 20; i++) await throttled.verify(rs256(claims(), currentPem, { kid: `made-up-${i}` })).catch(() => undefined);
    expect(fetches).toBe(1);
  });
});

describe('partner tokens', () => {
  const partnerClaim = (overrides: Partial<PartnerClaim> = {}): PartnerClaim => ({
    id: randomUUID(),
    appId: randomUUID(),
    contract: 'market-data',
    scopes: ['read'],
    trustedDocumentsOnly: false,
    ratePerMinute: 600,
    dailyQuota: 100_000,
    ...overrides,
  });
  const appToken = (partner: PartnerClaim): AuthUser => ({ id: partner.appId, role: 'PARTNER', sessionId: partner.appId, partner });

  it("carries the partner claim through issuing and verifying, for an app's own token and for a consent token", async () => {
    const partner = partnerClaim({ scopes: ['read', 'user:read'], trustedDocumentsOnly: true });
    const app = appToken(partner);
    expect(await verifier.verify(current.issue(app, randomUUID()))).toEqual(app);
    const consent: AuthUser = { id: randomUUID(), role: 'USER', sessionId: randomUUID(), partner };
    expect(await verifier.verify(current.issue(consent, randomUUID()))).toEqual(consent);
  });

  it('refuses a malformed partner claim, or one that does not fit the role, with the same UNAUTHENTICATED answer', async () => {
    const good = partnerClaim();
    const app = { sub: good.appId, sid: good.appId, role: 'PARTNER' };
    const { dailyQuota: _dropped, ...missingQuota } = good;
    const cases: Record<string, Record<string, unknown>> = {
      'PARTNER without a claim': { ...app },
      'PARTNER whose subject is not the app': { ...app, sub: randomUUID(), partner: good },
      'PARTNER whose session is not the app': { ...app, sid: randomUUID(), partner: good },
      'ADMIN with a claim': { role: 'ADMIN', partner: good },
      'enrolment-only with a claim': { role: 'USER', scope: 'totp-enrolment', partner: good },
      'claim not an object': { ...app, partner: 'market-data' },
      'claim an array': { ...app, partner: [good] },
      'field missing': { ...app, partner: missingQuota },
      'field added': { ...app, partner: { ...good, admin: true } },
      'partner id not a uuid': { ...app, partner: { ...good, id: 'p1' } },
      'contract name not allowed': { ...app, partner: { ...good, contract: '../all' } },
      'unknown scope': { ...app, partner: { ...good, scopes: ['read', 'write'] } },
      'no scope': { ...app, partner: { ...good, scopes: [] } },
      'scope twice': { ...app, partner: { ...good, scopes: ['read', 'read'] } },
      'trusted documents flag not a boolean': { ...app, partner: { ...good, trustedDocumentsOnly: 'false' } },
      'rate not an integer': { ...app, partner: { ...good, ratePerMinute: 1.5 } },
      'rate zero': { ...app, partner: { ...good, ratePerMinute: 0 } },
      'quota above the maximum': { ...app, partner: { ...good, dailyQuota: 100_000_001 } },
    };
    const messages = new Set<string>();
    for (const [name, overrides] of Object.entries(cases)) {
      messages.add(await refusal(rs256(claims(overrides))).catch((error: Error) => `${name}: ${error.message}`));
    }
    expect([...messages]).toEqual(['The access token is not valid or has expired.']);
  });

  it('requireUser and @Authorized() refuse an app token; requireCaller and @Authorized(ANY_CALLER) let it through', async () => {
    const app = await verifier.verify(current.issue(appToken(partnerClaim()), randomUUID()));
    const ctx = { user: app };
    expect(() => requireUser(ctx)).toThrow(expect.objectContaining({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/consenting user/) }));
    expect(requireCaller(ctx)).toEqual(app);
    // type-graphql calls the checker with the resolver data; only the context matters here.
    const checker = authChecker as (data: { context: { user: AuthUser | null } }, roles: Role[]) => boolean;
    const check = (roles: Role[], context: { user: AuthUser | null }) => () => checker({ context }, roles);
    expect(check(ANY_CALLER, ctx)()).toBe(true);
    expect(check([], ctx)).toThrow(expect.objectContaining({ extensions: { code: 'FORBIDDEN' } }));
    expect(check(['ADMIN'], ctx)).toThrow(expect.objectContaining({ extensions: { code: 'FORBIDDEN' } }));
    // A consent token acts as its user: every ownership rule applies, nothing more.
    const consent: AuthUser = { id: randomUUID(), role: 'USER', sessionId: randomUUID(), partner: partnerClaim() };
    expect(requireUser({ user: consent })).toBe(consent);
    expect(check(['ADMIN'], { user: consent })).toThrow(expect.objectContaining({ extensions: { code: 'FORBIDDEN' } }));
    // ANY_CALLER still wants a verified caller with a full token.
    expect(check(ANY_CALLER, { user: null })).toThrow(expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } }));
    const enrolment: AuthUser = { id: randomUUID(), role: 'ADMIN', sessionId: randomUUID(), scope: 'totp-enrolment' };
    expect(check(ANY_CALLER, { user: enrolment })).toThrow(expect.objectContaining({ extensions: { code: 'FORBIDDEN' } }));
  });

  it('revoking a partner refuses its tokens issued up to then, app and consent tokens alike, and not the ones issued afterwards', async () => {
    const partner = partnerClaim();
    const other = partnerClaim();
    const consentUser = randomUUID();
    const consentId = randomUUID();
    const appClaims = (partnerOf: PartnerClaim, iat: number) =>
      claims({ sub: partnerOf.appId, sid: partnerOf.appId, role: 'PARTNER', partner: partnerOf, iat, nbf: iat, exp: iat + 900 });
    const before = now() - 10;
    const oldApp = rs256(appClaims(partner, before));
    const oldConsent = rs256(claims({ sub: consentUser, sid: consentId, partner, iat: before, nbf: before, exp: before + 900 }));
    const otherPartner = rs256(appClaims(other, before));
    await revocations.revokePartner(partner.id);
    const revokedAt = (await revocations.partnerRevokedAt(partner))!;
    expect(revokedAt).toBeGreaterThanOrEqual(before + 10);
    await refusal(oldApp);
    await refusal(oldConsent);
    // Issued in the very second of the revocation: it may have been issued before it, so it goes too.
    await refusal(rs256(appClaims(partner, revokedAt)));
    expect((await verifier.verify(otherPartner)).partner).toEqual(other);
    // Reinstated later: tokens issued after the revocation work (iat one second later; the verifier allows a little skew).
    expect((await verifier.verify(rs256(appClaims(partner, revokedAt + 1)))).partner).toEqual(partner);
    expect(await revocations.partnerRevokedAt(other)).toBeNull();
  });

  it("revoking an app refuses that app's tokens only; revoking a consent refuses the tokens issued under it", async () => {
    const partner = partnerClaim();
    const sibling = { ...partner, appId: randomUUID() };
    const user = randomUUID();
    const consentId = randomUUID();
    const app = current.issue(appToken(partner), randomUUID());
    const siblingApp = current.issue(appToken(sibling), randomUUID());
    const consent = current.issue({ id: user, role: 'USER', sessionId: consentId, partner }, randomUUID());
    const siblingConsent = current.issue({ id: user, role: 'USER', sessionId: consentId, partner: sibling }, randomUUID());
    await revocations.revokeApp(partner.appId);
    await refusal(app);
    await refusal(consent);
    expect((await verifier.verify(siblingApp)).partner).toEqual(sibling);
    expect((await verifier.verify(siblingConsent)).partner).toEqual(sibling);
    await revocations.revokeSessions(user, [consentId]);
    await refusal(siblingConsent);
    expect((await verifier.verify(siblingApp)).partner).toEqual(sibling);
  });

  it('treats a partner token without an issue time as revoked once its partner has an entry (fails closed)', async () => {
    const partner = partnerClaim();
    const token = { id: partner.appId, sessionId: partner.appId, partner };
    expect(await revocations.isRevoked(token)).toBe(false);
    await revocations.revokePartner(partner.id);
    expect(await revocations.isRevoked(token)).toBe(true);
    expect(await revocations.isRevoked({ ...token, issuedAt: now() + 1 })).toBe(false);
  });
});
