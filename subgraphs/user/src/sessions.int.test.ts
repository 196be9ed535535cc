import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem, verifierFromEnv, type TokenVerifier } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { dropSchema, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { parseUserEnv, startUserService } from './index.js';

const schema = uniqueName('user_sessions');
const redisPrefix = `${uniqueName('user_sessions')}:`;
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;
/** Stands for any other subgraph or the gateway: verifies through the published JWKS and the shared Redis. */
let elsewhere: TokenVerifier;
const serviceKey = generateSigningKeyPem();

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
      JWT_PRIVATE_KEY: serviceKey,
    }),
  );
  url = `${service.url}/graphql`;
  elsewhere = verifierFromEnv({
    JWKS_URL: `${service.url}/.well-known/jwks.json`,
    JWT_ISSUER: 'analytica',
    JWT_AUDIENCE: 'analytica-api',
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
  });
});

afterAll(async () => {
  await elsewhere?.close();
  await service?.stop();
  await dropSchema(schema);
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

interface Pair {
  accessToken: string;
  refreshToken: string;
}
const PAIR = 'accessToken refreshToken twoFactorEnrolmentRequired user { id }';
let registered = 0;
async function register(): Promise<Pair & { email: string; password: string; id: string }> {
  const email = `session${++registered}@example.com`;
  const password = 'a long session password';
  const result = await gql(url, `mutation($i: RegisterInput!) { register(input: $i) { ${PAIR} } }`, { variables: { i: { email, password, displayName: 'S' } } });
  expect(result.errors).toBeUndefined();
  return { ...result.data.register, email, password, id: result.data.register.user.id };
}
const login = async (email: string, password: string): Promise<Pair> =>
  (await gql(url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${PAIR} } }`, { variables: { e: email, p: password } })).data?.login ?? null;
const refresh = (refreshToken: string) => gql(url, `mutation($r: String!) { refreshSession(refreshToken: $r) { ${PAIR} } }`, { variables: { r: refreshToken } });
const me = (token: string) => gql(url, '{ me { id } }', { token });
const acceptedElsewhere = (token: string) =>
  elsewhere.verify(token).then(
    () => true,
    () => false,
  );

describe('refresh tokens', () => {
  it('are opaque, stored only as a hash, and rotate on every use', async () => {
    const first = await register();
    expect(first.refreshToken).toMatch(/^[\w-]{43}$/);
    const stored = await service.db.fork().getConnection().execute('select token_hash from refresh_tokens');
    expect((stored as { token_hash: string }[]).map((r) => r.token_hash)).not.toContain(first.refreshToken);

    const second = await refresh(first.refreshToken);
    expect(second.errors).toBeUndefined();
    expect(second.data.refreshSession.refreshToken).not.toBe(first.refreshToken);
    expect((await me(second.data.refreshSession.accessToken)).data.me.id).toBe(first.id);
    const third = await refresh(second.data.refreshSession.refreshToken);
    expect(third.errors).toBeUndefined();
  });

  it('a rotated one presented again ends the whole session at once, everywhere, and is audited', async () => {
    const user = await register();
    const next = (await refresh(user.refreshToken)).data.refreshSession as Pair;
    expect(await acceptedElsewhere(next.accessToken)).toBe(true);

    const replay = await refresh(user.refreshToken);
    expect(replay.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The family is gone: the newest refresh token and every access token of the session stop too.
    expect((await refresh(next.refreshToken)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await me(next.accessToken)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await me(user.accessToken)).status).toBe(401);
    expect(await acceptedElsewhere(next.accessToken)).toBe(false);

    const audited = await service.db.fork().getConnection().execute(`select action, subject_id from audit_log where action = 'session.refresh_token_reused'`);
    expect(audited).toContainEqual({ action: 'session.refresh_token_reused', subject_id: user.id });
    // Other sessions of the same user are not part of the family.
    const other = await login(user.email, user.password);
    expect((await me(other.accessToken)).data.me.id).toBe(user.id);
  });

  it('two concurrent uses of one refresh token: exactly one succeeds, the other is a reuse that ends the whole session', async () => {
    const user = await register();
    const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
    const won = results.filter((r) => r.data?.refreshSession);
    const lost = results.filter((r) => !r.data?.refreshSession);
    expect(
      won.map((r) => r.errors),
      'exactly one success',
    ).toEqual([undefined]);
    expect(
      lost.map((r) => r.errors?.[0]?.extensions?.code),
      'exactly one refusal',
    ).toEqual(['UNAUTHENTICATED']);
    const winner = won[0]!.data.refreshSession as Pair;
    expect(winner.refreshToken).not.toBe(user.refreshToken);
    // The loser presented a token that had just been used, which is what a copy looks like: as the
    // README ("Sessions") says, that ends the whole session, the pair the winner just got included.
    expect((await me(winner.accessToken)).status).toBe(401);
    expect(await acceptedElsewhere(winner.accessToken)).toBe(false);
    expect((await refresh(winner.refreshToken)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const audited = await service.db.fork().getConnection().execute(`select action from audit_log where action = 'session.refresh_token_reused' and subject_id = ?`, [user.id]);
    expect(audited).toEqual([{ action: 'session.refresh_token_reused' }]);
  });

  it('an unknown, malformed or oversized refresh token is UNAUTHENTICATED', async () => {
    for (const token of ['nope', 'A'.repeat(43), 'x'.repeat(5000)]) {
      expect((await refresh(token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('ending sessions', () => {
  it('logout ends this session only, at once, here and in other services', async () => {
    const user = await register();
    const other = await login(user.email, user.password);
    expect((await gql(url, 'mutation { logout }', { token: user.accessToken })).data.logout).toBe(true);
    expect((await me(user.accessToken)).status).toBe(401);
    expect(await acceptedElsewhere(user.accessToken)).toBe(false);
    expect((await refresh(user.refreshToken)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await me(other.accessToken)).data.me.id).toBe(user.id);
    expect(await acceptedElsewhere(other.accessToken)).toBe(true);
  });

  it('logoutEverywhere ends every session of the user', async () => {
    const user = await register();
    const other = await login(user.email, user.password);
    expect((await gql(url, 'mutation { logoutEverywhere }', { token: other.accessToken })).data.logoutEverywhere).toBe(2);
    for (const pair of [user, other]) {
      expect(await acceptedElsewhere(pair.accessToken)).toBe(false);
      expect((await refresh(pair.refreshToken)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('changing the password ends the other sessions, keeps this one, and only the new password signs in', async () => {
    const user = await register();
    const other = await login(user.email, user.password);
    const change = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
    const wrong = await gql(url, change, { token: user.accessToken, variables: { c: 'not the password', n: 'a brand new passphrase' } });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    const weak = await gql(url, change, { token: user.accessToken, variables: { c: user.password, n: 'short' } });
    expect(weak.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });

    const changed = await gql(url, change, { token: user.accessToken, variables: { c: user.password, n: 'a brand new passphrase' } });
    expect(changed.data.changePassword).toBe(1);
    expect(await acceptedElsewhere(other.accessToken)).toBe(false);
    expect(await acceptedElsewhere(user.accessToken)).toBe(true);
    expect(await login(user.email, user.password)).toBeNull();
    expect((await login(user.email, 'a brand new passphrase')).accessToken).toBeTruthy();
  });
});

describe('key rotation', () => {
  it('a new signing key with the previous one still published keeps old tokens valid; unpublishing it ends them', async () => {
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    const user = await register();
    const oldToken = user.accessToken;
    const previousPublicKey = createPublicKey(createPrivateKey(serviceKey)).export({ type: 'spki', format: 'pem' }).toString();
    const start = (extra: Record<string, string>) =>
      startUserService(
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
          JWT_PRIVATE_KEY: generateSigningKeyPem(),
          ...extra,
        }),
      );
    const rotated = await start({ JWT_PREVIOUS_PUBLIC_KEYS: previousPublicKey.replace(/\n/g, '\\n') });
    const retired = await start({});
    const verifierOf = (url: string) =>
      verifierFromEnv({
        JWKS_URL: `${url}/.well-known/jwks.json`,
        JWT_ISSUER: 'analytica',
        JWT_AUDIENCE: 'analytica-api',
        REDIS_URL: services.redisUrl,
        REDIS_KEY_PREFIX: redisPrefix,
      });
    const throughRotated = verifierOf(rotated.url);
    const throughRetired = verifierOf(retired.url);
    try {
      const jwks = (await (await fetch(`${rotated.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys).toHaveLength(2);
      const newToken = (await gql(`${rotated.url}/graphql`, `mutation { login(email: "${user.email}", password: "${user.password}") { accessToken } }`)).data.login
        .accessToken as string;
      const kid = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
      expect(kid(newToken)).toBe(jwks.keys[0]!.kid);
      expect(kid(oldToken)).toBe(jwks.keys[1]!.kid);
      for (const token of [oldToken, newToken]) {
        expect((await throughRotated.verify(token)).id).toBe(user.id);
        expect((await gql(`${rotated.url}/graphql`, '{ me { id } }', { token })).data.me.id).toBe(user.id);
      }
      await expect(throughRetired.verify(oldToken)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      expect((await gql(`${retired.url}/graphql`, '{ me { id } }', { token: oldToken })).status).toBe(401);
    } finally {
      await throughRotated.close();
      await throughRetired.close();
      await rotated.stop();
      await retired.stop();
    }
  });
});
