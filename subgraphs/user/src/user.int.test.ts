import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, runConsumer, type Event } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { dropSchema, eventually, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { generateSigningKeyPem } from '@analytica/auth';
import { parseUserEnv, startUserService } from './index.js';

const schema = uniqueName('user_test');
const prefix = `${uniqueName('t')}.`;
const redisPrefix = `${uniqueName('user_test')}:`;
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;

beforeAll(async () => {
  const env = parseUserEnv({
    SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_PRIVATE_KEY: generateSigningKeyPem(),
  });
  service = await startUserService(env);
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await dropSchema(schema);
  await deleteRedisKeys(redisPrefix);
});

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id email role emailVerified } } }`;
const REGISTER_FULLY = `mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken expiresAt refreshExpiresAt twoFactorEnrolmentRequired user { id email displayName homeCurrency role emailVerified twoFactorEnabled disabled } } }`;
const registerAs = (email: string, password: string) => gql(url, REGISTER_FULLY, { variables: { input: { email, password, displayName: 'Registrant' } } });

async function deleteRedisKeys(keyPrefix: string) {
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}

describe('user service', () => {
  it('registers a user, signs them in and answers me with their own record', async () => {
    const registered = await gql(url, REGISTER, {
      variables: { input: { email: '  Ada@Example.com ', password: 'correct horse battery', displayName: 'Ada' } },
    });
    expect(registered.errors).toBeUndefined();
    expect(registered.data.register.user).toMatchObject({ email: 'ada@example.com', role: 'USER' });

    const login = await gql(url, `mutation { login(email: "ada@example.com", password: "correct horse battery") { accessToken } }`);
    const me = await gql(url, '{ me { id email } }', { token: login.data.login.accessToken });
    expect(me.data.me).toEqual({ id: registered.data.register.user.id, email: 'ada@example.com' });
  });

  it('publishes user.registered.v1 with a one-time email verification token that verifies the address', async () => {
    const logger = createLogger('test', 'silent');
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'test', prefix, logger });
    const seen: Event<'user.registered.v1'>[] = [];
    const consumer = await runConsumer({ bus, logger, groupId: 'user-test', topic: 'user.registered.v1', handle: async (e) => void seen.push(e) });
    try {
      const registered = await gql(url, REGISTER, {
        variables: { input: { email: 'grace@example.com', password: 'another long password', displayName: 'Grace' } },
      });
      const id = registered.data.register.user.id;
      const event = await eventually(async () => seen.find((e) => e.payload.userId === id), 20_000);
      expect(event.payload).toMatchObject({ email: 'grace@example.com', displayName: 'Grace' });
      expect(event.payload.verificationToken).toMatch(/^[\w-]{43}$/);
      expect(registered.data.register.user.emailVerified).toBe(false);

      const verify = `mutation($t: String!) { verifyEmail(token: $t) }`;
      expect((await gql(url, verify, { variables: { t: event.payload.verificationToken } })).data.verifyEmail).toBe(true);
      const me = await gql(url, '{ me { emailVerified } }', { token: registered.data.register.accessToken });
      expect(me.data.me.emailVerified).toBe(true);
      const again = await gql(url, verify, { variables: { t: event.payload.verificationToken } });
      expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });

  it('refuses a weak password and a malformed email, naming the field, and answers a taken email as a new one', async () => {
    const register = (email: string, password: string) => gql(url, REGISTER, { variables: { input: { email, password, displayName: 'X' } } });
    const weak = await register('x@example.com', 'short');
    expect(weak.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
    expect(weak.errors?.[0]?.message).toMatch(/at least 12 characters/);
    for (const common of ['password1234', 'aaaaaaaaaaaaaaaa', 'x@example.com']) {
      expect((await register('x@example.com', common)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
    }
    const malformed = await register('not-an-email', 'long enough password');
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.email' });
    // An address in use is not revealed (its owner is mailed instead): the answer has the shape of
    // a new account's, and the account that exists is left as it was.
    const taken = await register('ADA@example.com', 'long enough password');
    expect(taken.errors).toBeUndefined();
    expect(Object.keys(taken.data.register).sort()).toEqual(Object.keys((await register(`new-${Date.now()}@example.com`, 'long enough password')).data.register).sort());
    const original = await gql(url, `mutation { login(email: "ada@example.com", password: "correct horse battery") { accessToken } }`);
    expect(original.errors).toBeUndefined();
    const originalId = (await gql(url, '{ me { id } }', { token: original.data.login.accessToken })).data.me.id;
    // The registrant's password signs in to what they registered (as with a new address), never to Ada.
    const hijack = await gql(url, `mutation { login(email: "ada@example.com", password: "long enough password") { accessToken } }`);
    const hijacked = await gql(url, '{ me { id } }', { token: hijack.data?.login?.accessToken });
    expect(hijacked.data?.me?.id).not.toBe(originalId);
    expect(hijacked.data?.me?.id).toBe(taken.data.register.user.id);
  });

  it('answers a taken address exactly as a new one through everything its tokens do, leaves the account as it was and mails its owner', async () => {
    const SESSION = 'accessToken refreshToken user { id email displayName homeCurrency role emailVerified twoFactorEnabled disabled }';
    const ME = '{ me { id email displayName homeCurrency role emailVerified twoFactorEnabled disabled } }';
    const password = 'a registrant password';
    const owner = await gql(url, `mutation { login(email: "ada@example.com", password: "correct horse battery") { accessToken } }`);
    const ownerBefore = await gql(url, ME, { token: owner.data.login.accessToken });
    const [fresh, taken] = [await registerAs(`fresh-${Date.now()}@example.com`, password), await registerAs(' Ada@Example.com ', password)];
    // What the registrant can see and do, the same way for both; ids, tokens and times aside.
    async function journey(registered: typeof fresh, email: string) {
      const steps: Record<string, unknown> = { register: registered };
      const { accessToken, refreshToken, user } = registered.data.register;
      steps.me = await gql(url, ME, { token: accessToken });
      const refreshed = await gql(url, `mutation($r: String!) { refreshSession(refreshToken: $r) { ${SESSION} } }`, { variables: { r: refreshToken } });
      steps.refreshed = refreshed;
      steps.meAfterRefresh = await gql(url, ME, { token: refreshed.data?.refreshSession?.accessToken });
      steps.reused = await gql(url, `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`, { variables: { r: refreshToken } });
      const login = await gql(url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${SESSION} } }`, { variables: { e: email, p: password } });
      steps.login = login;
      const token = login.data?.login?.accessToken;
      steps.wrongPassword = await gql(url, `mutation($e: String!) { login(email: $e, password: "not the password!") { accessToken } }`, { variables: { e: email } });
      steps.profile = await gql(url, 'mutation { updateProfile(input: { displayName: "Renamed", homeCurrency: "USD" }) { id displayName homeCurrency } }', { token });
      steps.meAfterProfile = await gql(url, ME, { token });
      steps.logout = await gql(url, 'mutation { logout }', { token });
      steps.ids = [steps.me, steps.meAfterRefresh, steps.meAfterProfile].map((r) => (r as { data?: { me?: { id?: string } } }).data?.me?.id === user.id);
      return JSON.parse(
        JSON.stringify(steps, (key, value) =>
          ['accessToken', 'refreshToken', 'id'].includes(key)
            ? typeof value
            : key === 'email'
              ? 'the address'
              : typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)
                ? 'a time'
                : value,
        ),
      );
    }
    const freshJourney = await journey(fresh, fresh.data.register.user.email);
    expect(freshJourney.ids).toEqual([true, true, true]);
    expect(freshJourney.me.data.me).toMatchObject({ emailVerified: false, role: 'USER' });
    expect(await journey(taken, 'ada@example.com')).toEqual(freshJourney);

    // Ada's account: the same as before, and hers alone.
    expect(taken.data.register.user.id).not.toBe(ownerBefore.data.me.id);
    const ownerAfter = await gql(url, `mutation { login(email: "ada@example.com", password: "correct horse battery") { accessToken } }`);
    expect(await gql(url, ME, { token: ownerAfter.data.login.accessToken })).toEqual(ownerBefore);
    const [hash] = await service.db.fork().getConnection().execute<{ n: number }[]>(`select count(*)::int as n from users where email = 'ada@example.com' and decoy_of is null`);
    expect(hash!.n).toBe(1);
    // Her owner is told of the attempt; the registrant gets no verification link for her address.
    const outbox = await service.db.fork().getConnection().execute<{ topic: string; value: string }[]>('select topic, value from outbox');
    const mails = outbox.filter((m) => m.topic.endsWith('notifications.email.v1') && m.value.includes('registration-attempt') && m.value.includes(ownerBefore.data.me.id));
    expect(mails.length).toBeGreaterThanOrEqual(1);
    expect(outbox.filter((m) => m.topic.endsWith('user.registered.v1') && m.value.includes(taken.data.register.user.id))).toEqual([]);
  });

  it("does not let a decoy's sign-in clear the failure count that locks the account", async () => {
    const address = `eve-${Date.now()}@example.com`;
    expect((await registerAs(address, 'eve has a password')).errors).toBeUndefined();
    expect((await registerAs(address, 'the registrant password')).errors).toBeUndefined(); // a decoy
    const login = (password: string) =>
      gql(url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`, { variables: { e: address, p: password } });
    for (let i = 0; i < 4; i++) expect((await login('a wrong guess!!')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await login('the registrant password')).errors).toBeUndefined();
    expect((await login('a wrong guess!!')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED'); // the fifth
    expect((await login('eve has a password')).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('answers a wrong password and an unknown email with the same UNAUTHENTICATED error', async () => {
    const wrong = await gql(url, `mutation { login(email: "ada@example.com", password: "wrong password!!") { accessToken } }`);
    const unknown = await gql(url, `mutation { login(email: "nobody@example.com", password: "wrong password!!") { accessToken } }`);
    expect(wrong.errors?.[0]).toMatchObject({ message: 'The email or password is not correct.', extensions: { code: 'UNAUTHENTICATED' } });
    expect(unknown.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
  });

  it('refuses a tampered token and serves its public keys as JWKS', async () => {
    const login = await gql(url, `mutation { login(email: "ada@example.com", password: "correct horse battery") { accessToken } }`);
    const [header, payload, signature] = login.data.login.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'ADMIN' })).toString('base64url')}.${signature}`;
    const me = await gql(url, '{ me { id } }', { token: forged });
    expect(me.status).toBe(401);
    expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const jwks = (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as { keys: { kty: string; kid: string; d?: string }[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA' });
    expect(jwks.keys[0]?.d).toBeUndefined();
  });

  it('reports ready while PostgreSQL and Redis answer', async () => {
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok', redis: 'ok' } });
  });
});

describe('user service readiness', () => {
  it('answers /ready with 503 naming postgres while the database is unreachable, and recovers', async () => {
    const { createTcpProxy } = await import('@analytica/testing');
    const target = new URL(services.databaseUrl);
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(services.databaseUrl);
    proxied.port = String(proxy.port);
    const isolated = await startUserService(
      parseUserEnv({
        SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: proxied.toString(),
        DATABASE_SCHEMA: schema,
        KAFKA_BROKERS: services.kafkaBrokers,
        KAFKA_TOPIC_PREFIX: prefix,
        REDIS_URL: services.redisUrl,
        REDIS_KEY_PREFIX: redisPrefix,
        JWT_PRIVATE_KEY: generateSigningKeyPem(),
      }),
    );
    try {
      expect((await fetch(`${isolated.url}/ready`)).status).toBe(200);
      proxy.cut();
      const down = await fetch(`${isolated.url}/ready`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { checks: Record<string, string> }).checks.postgres).toMatch(/^unavailable/);
      expect((await fetch(`${isolated.url}/health`)).status).toBe(200);
      proxy.restore();
      const back = await eventually(async () => ((await fetch(`${isolated.url}/ready`)).status === 200 ? true : undefined), 10_000);
      expect(back).toBe(true);
    } finally {
      await isolated.stop();
      await proxy.close();
    }
  });
});
