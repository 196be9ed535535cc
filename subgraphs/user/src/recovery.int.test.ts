// Account recovery in the user service on real PostgreSQL, Redis and Kafka: the work a password
// reset request does (argon2 operations counted, outbox rows) is the same for an unknown address as
// for a known one; tokens are stored hashed, last 30 minutes, work once; limits per address and IP.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSigningKeyPem, verifierFromEnv, type TokenVerifier } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { dropSchema, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { parseUserEnv, startUserService } from './index.js';

/** Every argon2 hash and verification the service does, counted. */
const argon2Calls = vi.hoisted(() => ({ hash: 0, verify: 0 }));
vi.mock('@node-rs/argon2', async (original) => {
  const real = await original<typeof import('@node-rs/argon2')>();
  return {
    ...real,
    hash: (...args: Parameters<typeof real.hash>) => {
      argon2Calls.hash++;
      return real.hash(...args);
    },
    verify: (...args: Parameters<typeof real.verify>) => {
      argon2Calls.verify++;
      return real.verify(...args);
    },
  };
});

const schema = uniqueName('user_recovery');
const redisPrefix = `${uniqueName('user_recovery')}:`;
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;
let elsewhere: TokenVerifier;

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
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
      PASSWORD_RESETS_PER_EMAIL_PER_HOUR: '2',
      PASSWORD_RESETS_PER_IP_PER_HOUR: '4',
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

const sql = <T>(query: string, params: unknown[] = []) => service.db.fork().getConnection().execute<T[]>(query, params, 'all');
const PASSWORD = 'a long recovery password';
let ips = 0;
/** Each caller its own address (the service believes the gateway's X-Forwarded-For from loopback). */
const fromIp = (ip = `203.0.113.${++ips}`) => ({ 'x-forwarded-for': ip });
const REQUEST = 'mutation($e: String!) { requestPasswordReset(email: $e) }';
const RESET = 'mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }';

async function register(email: string) {
  const result = await gql(url, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken user { id } } }', {
    variables: { i: { email, password: PASSWORD, displayName: 'R' } },
    headers: fromIp(),
  });
  expect(result.errors).toBeUndefined();
  return { email, id: result.data.register.user.id as string, accessToken: result.data.register.accessToken as string, refreshToken: result.data.register.refreshToken as string };
}

async function resetMailsFor(userId: string) {
  const rows = await sql<{ value: string }>(
    `select value from outbox where topic like '%notifications.email.v1' and value like '%password-reset%' and key = ? order by created_at`,
    [userId],
  );
  return rows.map((r) => JSON.parse(r.value) as { to: string; data: { resetToken: string; expiresAt: string } });
}

describe('requestPasswordReset', () => {
  it('does the same work for an unknown address as for a known one, and answers the same', async () => {
    const known = await register('known@example.com');
    const outboxBefore = (await sql<{ n: number }>('select count(*)::int as n from outbox'))[0]!.n;
    const work = async (email: string) => {
      const before = { ...argon2Calls };
      const response = await gql(url, REQUEST, { variables: { e: email }, headers: fromIp() });
      return { response, hash: argon2Calls.hash - before.hash, verify: argon2Calls.verify - before.verify };
    };
    const forKnown = await work('Known@Example.com ');
    const forUnknown = await work('nobody@example.com');
    expect(forKnown.response).toEqual({ status: 200, data: { requestPasswordReset: true } });
    expect(forUnknown).toEqual(forKnown);
    // The email is an outbox row, sent after the answer by the notifications worker: only for the account.
    const [mail] = await resetMailsFor(known.id);
    expect(mail).toMatchObject({ to: 'known@example.com' });
    expect((await sql<{ n: number }>('select count(*)::int as n from outbox'))[0]!.n).toBe(outboxBefore + 1);
    // Stored as a SHA-256 hash, never the token; 30 minutes of life.
    const [row] = await sql<{ token_hash: string; created_at: Date; expires_at: Date }>('select * from password_resets where user_id = ?', [known.id]);
    expect(row!.token_hash).toBe(createHash('sha256').update(mail!.data.resetToken).digest('hex'));
    expect(JSON.stringify(await sql('select * from password_resets'))).not.toContain(mail!.data.resetToken);
    expect(new Date(row!.expires_at).getTime() - new Date(row!.created_at).getTime()).toBe(30 * 60 * 1000);
    // Both audited, the unknown one without a subject.
    const audited = await sql<{ subject_id: string | null; email: string }>(`select subject_id, email from audit_log where action = 'password.reset_requested' order by id`);
    expect(audited).toEqual([
      { subject_id: known.id, email: 'known@example.com' },
      { subject_id: null, email: 'nobody@example.com' },
    ]);
  });

  it('is limited per address, known or not, and per caller address', async () => {
    for (const email of ['limited@example.com', 'nobody-limited@example.com']) {
      if (email === 'limited@example.com') await register(email);
      for (let i = 0; i < 2; i++) expect((await gql(url, REQUEST, { variables: { e: email }, headers: fromIp() })).data).toEqual({ requestPasswordReset: true });
      const refused = await gql(url, REQUEST, { variables: { e: email }, headers: fromIp() });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(refused.errors?.[0]?.message).toMatch(/^Too many password reset requests; try again in \d+ s\.$/);
    }
    const caller = fromIp('198.51.100.7');
    for (let i = 0; i < 4; i++) expect((await gql(url, REQUEST, { variables: { e: `spray${i}@example.com` }, headers: caller })).data).toEqual({ requestPasswordReset: true });
    expect((await gql(url, REQUEST, { variables: { e: 'spray9@example.com' }, headers: caller })).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });
});

describe('resetPassword', () => {
  it('sets the password, ends every session at once, is audited, and works once', async () => {
    const user = await register('reset@example.com');
    const second = (await gql(url, 'mutation { login(email: "reset@example.com", password: "a long recovery password") { accessToken refreshToken } }', { headers: fromIp() })).data
      .login;
    await gql(url, REQUEST, { variables: { e: user.email }, headers: fromIp() });
    const [mail] = await resetMailsFor(user.id);
    const token = mail!.data.resetToken;
    expect((await gql(url, RESET, { variables: { t: token, p: 'reset@example.com' } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    expect((await gql(url, RESET, { variables: { t: token, p: 'a brand new password' } })).data).toEqual({ resetPassword: true });
    for (const accessToken of [user.accessToken, second.accessToken])
      await expect(elsewhere.verify(accessToken)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const sessions = await sql<{ revoked_reason: string | null }>('select revoked_reason from sessions where user_id = ?', [user.id]);
    expect(sessions.map((s) => s.revoked_reason)).toEqual(['password-reset', 'password-reset']);
    expect((await gql(url, RESET, { variables: { t: token, p: 'a third new password' } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    const login = await gql(url, 'mutation { login(email: "reset@example.com", password: "a brand new password") { accessToken } }', { headers: fromIp() });
    expect(login.errors).toBeUndefined();
    const actions = await sql<{ action: string }>('select action from audit_log where subject_id = ? order by id', [user.id]);
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['password.reset_requested', 'password.reset', 'session.logged_out_everywhere']));
  });

  it('refuses an expired token and one superseded by a reset with another', async () => {
    const user = await register('expired@example.com');
    await gql(url, REQUEST, { variables: { e: user.email }, headers: fromIp() });
    await gql(url, REQUEST, { variables: { e: user.email }, headers: fromIp() });
    const [first, latest] = (await resetMailsFor(user.id)).map((m) => m.data.resetToken);
    await sql(`update password_resets set expires_at = now() - interval '1 second' where token_hash = ?`, [createHash('sha256').update(first!).digest('hex')]);
    expect((await gql(url, RESET, { variables: { t: first, p: 'a brand new password' } })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gql(url, RESET, { variables: { t: latest, p: 'a brand new password' } })).data).toEqual({ resetPassword: true });
  });
});
