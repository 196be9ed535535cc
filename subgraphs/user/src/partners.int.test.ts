import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer, generateSigningKeyPem, verifierFromEnv, type AuthUser, type TokenVerifier } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { dropSchema, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { parseUserEnv, startUserService } from './index.js';

const schema = uniqueName('user_partners');
const redisPrefix = `${uniqueName('user_partners')}:`;
const signingKey = generateSigningKeyPem();
const TTL_SECONDS = 600;
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;
let db: pg.Client;
/** The check every other service (and the gateway) runs: JWKS over HTTP, revocations in Redis. */
let verifier: TokenVerifier;
/**
 * An administrator's token, signed with the service's key. Admin rights come from the role claim
 * once the user service issued it (after two-factor sign-in, tested in admin.int.test.ts); here the
 * test plays the issuer to keep to partners.
 */
let adminToken: string;

beforeAll(async () => {
  service = await startUserService(
    parseUserEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_PRIVATE_KEY: signingKey,
      ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS),
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_LOCKOUT_SECONDS: '30',
    }),
  );
  url = `${service.url}/graphql`;
  verifier = verifierFromEnv({
    JWKS_URL: `${service.url}/.well-known/jwks.json`,
    JWT_ISSUER: 'analytica',
    JWT_AUDIENCE: 'analytica-api',
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
  });
  db = new pg.Client({ connectionString: services.databaseUrl });
  await db.connect();
  const issuer = createTokenIssuer(signingKey, { issuer: 'analytica', audience: 'analytica-api', ttlSeconds: TTL_SECONDS });
  adminToken = issuer.issue({ id: randomUUID(), role: 'ADMIN', sessionId: randomUUID() }, randomUUID());
});

afterAll(async () => {
  await verifier?.close();
  await db?.end();
  await service?.stop();
  await dropSchema(schema);
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

let addresses = 0;
/** Each test asks from its own address, so that the per-address lockouts of one do not reach another. */
const newAddress = () => `198.51.100.${++addresses}`;

const call = (query: string, options: { token?: string; variables?: Record<string, unknown> } = {}) =>
  gql(url, query, { token: options.token, variables: options.variables, headers: { 'x-forwarded-for': '192.0.2.1' } });
const admin = async <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T> => {
  const result = await call(query, { token: adminToken, variables });
  expect(result.errors, query).toBeUndefined();
  return result.data as T;
};

async function register(): Promise<{ id: string; token: string }> {
  const email = `${randomUUID()}@example.com`;
  const result = await gql(url, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }', {
    variables: { i: { email, password: 'a user password here', displayName: 'Partner test' } },
    headers: { 'x-forwarded-for': newAddress() },
  });
  expect(result.errors).toBeUndefined();
  return { id: result.data.register.user.id as string, token: result.data.register.accessToken as string };
}

const createPartner = async (contract = 'market-data') =>
  (
    await admin<{ createPartner: { id: string } }>('mutation($n: String!, $c: String!) { createPartner(name: $n, contract: $c) { id } }', {
      n: `Partner ${randomUUID()}`,
      c: contract,
    })
  ).createPartner.id;

async function createApp(partnerId: string, input: Record<string, unknown> = {}): Promise<{ clientId: string; clientSecret: string }> {
  const data = await admin<{ createPartnerApp: { app: { id: string }; clientSecret: string } }>(
    'mutation($i: CreatePartnerAppInput!) { createPartnerApp(input: $i) { app { id } clientSecret } }',
    { i: { partnerId, name: 'Robo app', ...input } },
  );
  return { clientId: data.createPartnerApp.app.id, clientSecret: data.createPartnerApp.clientSecret };
}

interface TokenAnswer {
  status: number;
  headers: Headers;
  body: { access_token?: string; token_type?: string; expires_in?: number; scope?: string; error?: string; error_description?: string; code?: string };
}

/** POST /oauth/token, form-encoded with the credentials in the body unless `basic` or `json`. */
async function requestToken(params: Record<string, string>, options: { basic?: [string, string]; json?: boolean; ip?: string } = {}): Promise<TokenAnswer> {
  const headers: Record<string, string> = {
    'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
    'x-forwarded-for': options.ip ?? '203.0.113.7',
  };
  if (options.basic) headers.authorization = `Basic ${Buffer.from(options.basic.map(encodeURIComponent).join(':')).toString('base64')}`;
  const response = await fetch(`${service.url}/oauth/token`, {
    method: 'POST',
    headers,
    body: options.json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as TokenAnswer['body'] };
}

const clientCredentials = (app: { clientId: string; clientSecret: string }, extra: Record<string, string> = {}) =>
  requestToken({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, ...extra });

async function accessToken(app: { clientId: string; clientSecret: string }, extra: Record<string, string> = {}): Promise<string> {
  const answer = await clientCredentials(app, extra);
  expect(answer.body.error_description).toBeUndefined();
  expect(answer.status).toBe(200);
  return answer.body.access_token!;
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function refusedByVerifier(token: string) {
  await expect(verifier.verify(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
}

const auditRows = async (action: string) =>
  (
    await db.query<{ action: string; actor_id: string | null; subject_id: string | null; detail: Record<string, unknown> }>(
      `select action, actor_id, subject_id, detail from "${schema}".audit_log where action = $1 order by id`,
      [action],
    )
  ).rows;

describe('partner administration', () => {
  it('creates, lists, suspends, reinstates and deletes partners and apps, each change in the audit log', async () => {
    const name = `Robo Advisers ${randomUUID()}`;
    const created = await admin<{ createPartner: Record<string, unknown> }>(
      'mutation($n: String!) { createPartner(name: $n, contract: "market-data") { id name contract status suspendedAt } }',
      { n: ` ${name} ` },
    );
    const partnerId = created.createPartner.id as string;
    expect(created.createPartner).toMatchObject({ name, contract: 'market-data', status: 'ACTIVE', suspendedAt: null });

    const { createPartnerApp } = await admin<{ createPartnerApp: { app: Record<string, unknown>; clientSecret: string } }>(
      `mutation($p: ID!) { createPartnerApp(input: { partnerId: $p, name: "Web", scopes: ["user:read", "read"], trustedDocumentsOnly: true, ratePerMinute: 120, dailyQuota: 5000 }) {
        app { id partnerId name scopes trustedDocumentsOnly ratePerMinute dailyQuota } clientSecret } }`,
      { p: partnerId },
    );
    expect(createPartnerApp.app).toMatchObject({ partnerId, name: 'Web', scopes: ['read', 'user:read'], trustedDocumentsOnly: true, ratePerMinute: 120, dailyQuota: 5000 });
    expect(createPartnerApp.clientSecret).toMatch(/^aps_[A-Za-z0-9_-]{43}$/);
    // Only the SHA-256 of the secret is kept.
    const stored = await db.query<{ secret_hash: string; expires_at: Date | null }>(`select secret_hash, expires_at from "${schema}".partner_app_secrets where app_id = $1`, [
      createPartnerApp.app.id,
    ]);
    expect(stored.rows).toEqual([{ secret_hash: createHash('sha256').update(createPartnerApp.clientSecret).digest('hex'), expires_at: null }]);

    const listed = await admin<{ partners: { id: string; apps: { id: string }[] }[] }>('{ partners { id name status apps { id name } } }');
    expect(listed.partners.find((p) => p.id === partnerId)).toEqual({ id: partnerId, name, status: 'ACTIVE', apps: [{ id: createPartnerApp.app.id, name: 'Web' }] });

    expect(
      (await admin<{ suspendPartner: Record<string, unknown> }>('mutation($id: ID!) { suspendPartner(id: $id) { status suspendedAt } }', { id: partnerId })).suspendPartner,
    ).toMatchObject({
      status: 'SUSPENDED',
      suspendedAt: expect.any(String),
    });
    expect(
      (await admin<{ reinstatePartner: Record<string, unknown> }>('mutation($id: ID!) { reinstatePartner(id: $id) { status suspendedAt } }', { id: partnerId })).reinstatePartner,
    ).toEqual({
      status: 'ACTIVE',
      suspendedAt: null,
    });
    await admin('mutation($id: ID!) { deletePartnerApp(appId: $id) }', { id: createPartnerApp.app.id });
    await admin('mutation($id: ID!) { deletePartner(id: $id) }', { id: partnerId });
    expect((await admin<{ partners: { id: string }[] }>('{ partners { id } }')).partners.map((p) => p.id)).not.toContain(partnerId);
    // The name is free again once the partner is deleted.
    await admin('mutation($n: String!) { createPartner(name: $n, contract: "market-data") { id } }', { n: name });

    for (const action of [
      'admin.partner_created',
      'admin.partner_app_created',
      'admin.partner_suspended',
      'admin.partner_reinstated',
      'admin.partner_app_deleted',
      'admin.partner_deleted',
    ]) {
      const rows = (await auditRows(action)).filter((row) => row.detail.partnerId === partnerId);
      expect(rows, action).toHaveLength(1);
      expect(rows[0]!.actor_id, action).toBe(claimsOf(adminToken).sub);
    }
    expect(JSON.stringify(await auditRows('admin.partner_app_created'))).not.toContain(createPartnerApp.clientSecret);
    expect((await auditRows('admin.partners_listed')).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses bad input with BAD_USER_INPUT naming the field, a taken name with CONFLICT, and changes nothing', async () => {
    const partnerId = await createPartner();
    const before = await db.query(`select count(*)::int as n from "${schema}".partner_apps`);
    const cases: [string, Record<string, unknown>, string][] = [
      ['mutation { createPartner(name: "Bad contract", contract: "Market Data") { id } }', {}, 'contract'],
      ['mutation { createPartner(name: "Console", contract: "console") { id } }', {}, 'contract'],
      ['mutation { createPartner(name: "  ", contract: "market-data") { id } }', {}, 'name'],
      ['mutation($p: ID!) { createPartnerApp(input: { partnerId: $p, name: "x", scopes: ["write"] }) { clientSecret } }', { p: partnerId }, 'input.scopes'],
      ['mutation($p: ID!) { createPartnerApp(input: { partnerId: $p, name: "x", scopes: [] }) { clientSecret } }', { p: partnerId }, 'input.scopes'],
      ['mutation($p: ID!) { createPartnerApp(input: { partnerId: $p, name: "x", ratePerMinute: 0 }) { clientSecret } }', { p: partnerId }, 'input.ratePerMinute'],
      ['mutation($p: ID!) { createPartnerApp(input: { partnerId: $p, name: "x", dailyQuota: 100000001 }) { clientSecret } }', { p: partnerId }, 'input.dailyQuota'],
    ];
    for (const [query, variables, field] of cases) {
      const result = await call(query, { token: adminToken, variables });
      expect(result.errors?.[0]?.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(result.errors?.[0]?.message, query).toMatch(/^Give /);
    }
    const unknown = await call('mutation($p: ID!) { createPartnerApp(input: { partnerId: $p, name: "x" }) { clientSecret } }', {
      token: adminToken,
      variables: { p: randomUUID() },
    });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.partnerId' });
    const app = await createApp(partnerId);
    const overlap = await call('mutation($a: ID!) { rotatePartnerAppSecret(appId: $a, overlapSeconds: 2592001) { clientSecret } }', {
      token: adminToken,
      variables: { a: app.clientId },
    });
    expect(overlap.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'overlapSeconds' });
    expect((await db.query(`select count(*)::int as n from "${schema}".partner_apps`)).rows[0].n).toBe(before.rows[0].n + 1);

    const name = `Taken ${randomUUID()}`;
    await admin('mutation($n: String!) { createPartner(name: $n, contract: "market-data") { id } }', { n: name });
    const taken = await call('mutation($n: String!) { createPartner(name: $n, contract: "market-data") { id } }', { token: adminToken, variables: { n: name.toUpperCase() } });
    expect(taken.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('is for administrators only: a user is FORBIDDEN, an anonymous caller UNAUTHENTICATED, and a partner app FORBIDDEN', async () => {
    const user = await register();
    const partnerId = await createPartner();
    const app = await createApp(partnerId);
    const appToken = await accessToken(app);
    for (const token of [user.token, appToken]) {
      for (const query of ['{ partners { id } }', 'mutation { createPartner(name: "Sneaky", contract: "market-data") { id } }']) {
        expect((await call(query, { token })).errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      }
      const suspended = await call('mutation($id: ID!) { suspendPartner(id: $id) { id } }', { token, variables: { id: partnerId } });
      expect(suspended.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await call('{ partners { id } }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await admin<{ partners: { id: string; status: string }[] }>('{ partners { id status } }')).partners).toContainEqual({ id: partnerId, status: 'ACTIVE' });
  });
});

describe('the token endpoint', () => {
  it("gives an app a token for itself: role PARTNER, the partner claim, the service's lifetime, never cached", async () => {
    const partnerId = await createPartner('market-data');
    const app = await createApp(partnerId, { scopes: ['read'], trustedDocumentsOnly: true, ratePerMinute: 90, dailyQuota: 12_345 });
    const answer = await clientCredentials(app);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: TTL_SECONDS, scope: 'read' });
    const claims = claimsOf(answer.body.access_token!);
    expect(claims).toMatchObject({ sub: app.clientId, sid: app.clientId, role: 'PARTNER', iss: 'analytica', aud: 'analytica-api' });
    expect(claims.partner).toEqual({
      id: partnerId,
      appId: app.clientId,
      contract: 'market-data',
      scopes: ['read'],
      trustedDocumentsOnly: true,
      ratePerMinute: 90,
      dailyQuota: 12_345,
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(TTL_SECONDS);
    const verified: AuthUser = await verifier.verify(answer.body.access_token!);
    expect(verified).toEqual({ id: app.clientId, role: 'PARTNER', sessionId: app.clientId, partner: claims.partner });

    // HTTP Basic and a JSON body work the same.
    expect((await requestToken({ grant_type: 'client_credentials' }, { basic: [app.clientId, app.clientSecret] })).status).toBe(200);
    expect((await requestToken({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret }, { json: true })).status).toBe(200);

    // An app token has no user data to read: requireUser refuses it.
    const me = await call('{ me { id } }', { token: answer.body.access_token });
    expect(me.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(me.errors?.[0]?.message).toMatch(/consenting user/);
  });

  it('refuses a wrong secret and an unknown client alike (401 invalid_client), a bad grant type, and locks a client out after repeated failures', async () => {
    const app = await createApp(await createPartner());
    const ip = newAddress();
    const wrong = await requestToken({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: `${app.clientSecret}x` }, { ip });
    const unknown = await requestToken({ grant_type: 'client_credentials', client_id: randomUUID(), client_secret: app.clientSecret }, { ip });
    for (const answer of [wrong, unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'invalid_client', error_description: expect.any(String), code: 'UNAUTHENTICATED' });
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    expect(unknown.body.error_description).toBe(wrong.body.error_description);
    const grant = await requestToken({ grant_type: 'password', client_id: app.clientId, client_secret: app.clientSecret });
    expect(grant.status).toBe(400);
    expect(grant.body).toMatchObject({ error: 'unsupported_grant_type', code: 'BAD_USER_INPUT' });
    expect(await auditRows('partner.client_auth_failed')).toContainEqual(expect.objectContaining({ detail: { clientId: app.clientId } }));

    // Three failures for one client (LOGIN_MAX_FAILURES_PER_ACCOUNT) lock it, the right secret included.
    for (let i = 0; i < 2; i++) await requestToken({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: 'aps_guess' }, { ip: newAddress() });
    const locked = await clientCredentials(app);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("refuses a suspended partner's apps and stops the tokens they hold at once; once reinstated, new tokens work", async () => {
    const partnerId = await createPartner();
    const app = await createApp(partnerId);
    const held = await accessToken(app);
    expect((await verifier.verify(held)).partner?.id).toBe(partnerId);
    await admin('mutation($id: ID!) { suspendPartner(id: $id) { id } }', { id: partnerId });
    await refusedByVerifier(held);
    const refused = await clientCredentials(app);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'invalid_client', code: 'FORBIDDEN' });
    await admin('mutation($id: ID!) { reinstatePartner(id: $id) { id } }', { id: partnerId });
    // Possibly within the second of the suspension: the endpoint waits for the next one rather than hand out a dead token.
    const fresh = await accessToken(app);
    expect((await verifier.verify(fresh)).partner?.appId).toBe(app.clientId);
    await refusedByVerifier(held);
  });

  it("stops a deleted app's tokens and secrets, and a deleted partner's", async () => {
    const partnerId = await createPartner();
    const [first, second] = [await createApp(partnerId), await createApp(partnerId)];
    const [firstToken, secondToken] = [await accessToken(first), await accessToken(second)];
    await admin('mutation($id: ID!) { deletePartnerApp(appId: $id) }', { id: first.clientId });
    await refusedByVerifier(firstToken);
    expect((await clientCredentials(first)).body).toMatchObject({ error: 'invalid_client', code: 'UNAUTHENTICATED' });
    expect((await verifier.verify(secondToken)).partner?.appId).toBe(second.clientId);
    await admin('mutation($id: ID!) { deletePartner(id: $id) }', { id: partnerId });
    await refusedByVerifier(secondToken);
    expect((await clientCredentials(second)).status).toBe(401);
  });

  it('rotates a secret with an overlap: the previous secret works until it ends, then only the new one', async () => {
    const app = await createApp(await createPartner());
    const rotated = await admin<{ rotatePartnerAppSecret: { clientSecret: string; previousSecretExpiresAt: string; app: { id: string } } }>(
      'mutation($a: ID!) { rotatePartnerAppSecret(appId: $a, overlapSeconds: 2) { app { id } clientSecret previousSecretExpiresAt } }',
      { a: app.clientId },
    );
    const { clientSecret, previousSecretExpiresAt } = rotated.rotatePartnerAppSecret;
    expect(clientSecret).not.toBe(app.clientSecret);
    expect(new Date(previousSecretExpiresAt).getTime() - Date.now()).toBeLessThanOrEqual(2000);
    expect((await clientCredentials(app)).status).toBe(200);
    expect((await clientCredentials({ ...app, clientSecret })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, new Date(previousSecretExpiresAt).getTime() - Date.now() + 200));
    expect((await clientCredentials(app, {})).body).toMatchObject({ error: 'invalid_client', code: 'UNAUTHENTICATED' });
    expect((await clientCredentials({ ...app, clientSecret })).status).toBe(200);

    // Overlap 0 (a leaked secret) ends every earlier secret now.
    const again = await admin<{ rotatePartnerAppSecret: { clientSecret: string } }>('mutation($a: ID!) { rotatePartnerAppSecret(appId: $a, overlapSeconds: 0) { clientSecret } }', {
      a: app.clientId,
    });
    expect((await clientCredentials({ ...app, clientSecret }, {})).status).toBe(401);
    expect((await clientCredentials({ ...app, clientSecret: again.rotatePartnerAppSecret.clientSecret })).status).toBe(200);
    expect((await auditRows('admin.partner_app_secret_rotated')).filter((row) => row.detail.appId === app.clientId)).toHaveLength(2);
  });
});

describe('consent tokens', () => {
  it("act for a consenting user only: the user's id, role USER, the consent as session", async () => {
    const partnerId = await createPartner('budget-with-consent');
    const app = await createApp(partnerId, { scopes: ['read', 'user:read'] });
    const publicOnly = await createApp(partnerId, { scopes: ['read'] });
    const user = await register();

    const before = await clientCredentials(app, { user_id: user.id });
    expect(before.status).toBe(400);
    expect(before.body).toMatchObject({ error: 'invalid_grant', code: 'NOT_FOUND' });
    // An unknown user gets the very same answer (but its own id in the words).
    const stranger = randomUUID();
    const unknown = await clientCredentials(app, { user_id: stranger });
    expect(unknown.body).toEqual({ ...before.body, error_description: before.body.error_description!.replace(user.id, stranger) });

    const granted = await call('mutation($p: ID!) { grantPartnerConsent(partnerId: $p) { id partnerId partnerName scopes } }', { token: user.token, variables: { p: partnerId } });
    expect(granted.errors).toBeUndefined();
    const consentId = granted.data.grantPartnerConsent.id as string;
    expect(granted.data.grantPartnerConsent).toMatchObject({ partnerId, scopes: ['user:read'] });
    const listed = await call('{ me { partnerConsents { id partnerId } } }', { token: user.token });
    expect(listed.data.me.partnerConsents).toEqual([{ id: consentId, partnerId }]);

    // Scope user:read is needed, and may not be narrowed away.
    expect((await clientCredentials(publicOnly, { user_id: user.id })).body).toMatchObject({ error: 'invalid_scope', code: 'FORBIDDEN' });
    expect((await clientCredentials(app, { user_id: user.id, scope: 'read' })).body).toMatchObject({ error: 'invalid_scope' });

    const token = await accessToken(app, { user_id: user.id });
    const claims = claimsOf(token);
    expect(claims).toMatchObject({ sub: user.id, role: 'USER', sid: consentId });
    expect(claims.partner).toMatchObject({ id: partnerId, appId: app.clientId, contract: 'budget-with-consent', scopes: ['read', 'user:read'] });
    expect(await verifier.verify(token)).toMatchObject({ id: user.id, role: 'USER', sessionId: consentId });
    // Every ownership rule applies unchanged: it is the user's token for reading.
    expect((await call('{ me { id } }', { token })).data.me).toEqual({ id: user.id });
    // But a partner app cannot manage consents with it.
    expect((await call('{ me { partnerConsents { id } } }', { token })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await auditRows('partner.consent_token_issued')).toContainEqual(expect.objectContaining({ subject_id: user.id, detail: expect.objectContaining({ consentId }) }));

    // Revoking the consent kills the token at once and refuses new ones.
    const revoked = await call('mutation($id: ID!) { revokePartnerConsent(id: $id) }', { token: user.token, variables: { id: consentId } });
    expect(revoked.data).toEqual({ revokePartnerConsent: true });
    await refusedByVerifier(token);
    expect((await call('{ me { id } }', { token })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await clientCredentials(app, { user_id: user.id })).body).toMatchObject({ error: 'invalid_grant', code: 'NOT_FOUND' });
    expect((await call('{ me { partnerConsents { id } } }', { token: user.token })).data.me.partnerConsents).toEqual([]);
    // The app's own token is not touched by it.
    expect((await verifier.verify(await accessToken(app))).role).toBe('PARTNER');
    for (const action of ['partner.consent_granted', 'partner.consent_revoked']) {
      expect(await auditRows(action), action).toContainEqual(expect.objectContaining({ subject_id: user.id, detail: expect.objectContaining({ consentId }) }));
    }
  });

  it("refuses a disabled user's consent like a missing one, and keeps consents the owner's business", async () => {
    const partnerId = await createPartner('budget-with-consent');
    const app = await createApp(partnerId, { scopes: ['read', 'user:read'] });
    const [user, other] = [await register(), await register()];
    const granted = await call('mutation($p: ID!) { grantPartnerConsent(partnerId: $p) { id } }', { token: user.token, variables: { p: partnerId } });
    const consentId = granted.data.grantPartnerConsent.id as string;
    // Giving it again returns the consent in force.
    expect((await call('mutation($p: ID!) { grantPartnerConsent(partnerId: $p) { id } }', { token: user.token, variables: { p: partnerId } })).data.grantPartnerConsent.id).toBe(
      consentId,
    );
    // Another user cannot revoke it, nor learn that it exists.
    const foreign = await call('mutation($id: ID!) { revokePartnerConsent(id: $id) }', { token: other.token, variables: { id: consentId } });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const token = await accessToken(app, { user_id: user.id });

    await admin('mutation($id: ID!) { setUserDisabled(id: $id, disabled: true) { id } }', { id: user.id });
    await refusedByVerifier(token);
    const refused = await clientCredentials(app, { user_id: user.id });
    expect(refused.body).toMatchObject({ error: 'invalid_grant', code: 'NOT_FOUND' });
    expect(refused.body.error_description).toBe((await clientCredentials(app, { user_id: other.id })).body.error_description!.replace(other.id, user.id));
  });
});
