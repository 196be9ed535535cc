import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { dropSchema, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { buildUserSchema, parseUserEnv, startUserService } from '@analytica/user-subgraph';
import { parseGatewayEnv, startGateway } from './index.js';

// The gateway's own defences, with the user subgraph behind it: query limits, body size, the
// request budget, production hardening, the caller's address and revocation.
const schemaName = uniqueName('gw_limits');
const redisPrefix = `${uniqueName('gw_limits')}:`;
let dir: string;
let user: Awaited<ReturnType<typeof startUserService>>;
const gateways: Awaited<ReturnType<typeof startGateway>>[] = [];

async function gatewayWith(env: Record<string, string>) {
  const gateway = await startGateway(
    parseGatewayEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
      SUPERGRAPH_WATCH: 'false',
      JWKS_URL: `${user.url}/.well-known/jwks.json`,
      REDIS_URL: services.redisUrl,
      // Each gateway its own budget keys; revocations are read under the user service's prefix.
      REDIS_KEY_PREFIX: redisPrefix,
      ...env,
    }),
  );
  gateways.push(gateway);
  return `${gateway.url}/graphql`;
}

let strict: string;
let lenient: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-limits-'));
  user = await startUserService(
    parseUserEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schemaName,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '2',
    }),
  );
  const composed = compose([{ name: 'user', url: `${user.url}/graphql`, sdl: printSdl(await buildUserSchema()) }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  strict = await gatewayWith({
    GRAPHQL_MAX_DEPTH: '3',
    GRAPHQL_MAX_COST: '20',
    GRAPHQL_MAX_ALIASES: '3',
    GRAPHQL_MAX_DIRECTIVES: '3',
    GRAPHQL_MAX_TOKENS: '60',
    MAX_BODY_BYTES: '2048',
  });
  lenient = await gatewayWith({ TRUST_PROXY: 'loopback' });
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.stop();
  await user?.stop();
  await dropSchema(schemaName);
  await rm(dir, { recursive: true, force: true });
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const refusedAsInvalid = async (url: string, query: string) => {
  const response = await gql(url, query);
  expect(response.status, query).toBe(400);
  expect(response.errors?.[0]?.extensions?.code, query).toMatch(/^GRAPHQL_(VALIDATION|PARSE)_FAILED$/);
  return (response.errors ?? []).map((e) => e.message).join('\n');
};

describe('query limits', () => {
  it('refuse a query that is too deep, too costly, or has too many aliases, directives or tokens, before any subgraph is asked', async () => {
    expect(await refusedAsInvalid(strict, '{ users { edges { node { id } } } }')).toMatch(/depth limit of 3/);
    expect(await refusedAsInvalid(strict, '{ a: me { id } b: me { id } c: me { id } d: me { id } }')).toMatch(/aliases limit of 3/i);
    expect(await refusedAsInvalid(strict, '{ me @skip(if: false) @skip(if: false) @skip(if: false) @skip(if: false) { id } }')).toMatch(/directives limit of 3/i);
    expect(await refusedAsInvalid(strict, `{ me { ${'id '.repeat(60)} } }`)).toMatch(/more (than|that) 60 tokens/i);
    const fields = 'id email displayName role homeCurrency createdAt emailVerified twoFactorEnabled disabled';
    expect((await gql(strict, `{ me { ${fields} } }`)).status).toBe(200);
    expect(await refusedAsInvalid(strict, `{ me { ${fields} } again: me { ${fields} } }`)).toMatch(/cost limit of 20/i);
    // Within the limits the same gateway answers (here: no token, so UNAUTHENTICATED from the subgraph).
    expect((await gql(strict, '{ me { id } }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('the defaults let the usual queries through', async () => {
    const response = await gql(lenient, '{ me { id email displayName role homeCurrency createdAt emailVerified twoFactorEnabled disabled } }');
    expect(response.status).toBe(200);
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuse a body larger than MAX_BODY_BYTES with 413 and a batched request with 400', async () => {
    const big = await fetch(strict, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }', variables: { padding: 'x'.repeat(4096) } }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('BAD_REQUEST');
    const batch = await fetch(strict, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(batch.status).toBe(400);
  });

  // Two readers see a body before Apollo (share-queries.ts, then the service's JSON parser): a body
  // that is not JSON is one BAD_REQUEST, and compressed or chunked bodies are read like plain ones.
  it('answer a body that is not a JSON object with 400 BAD_REQUEST, and read gzip-compressed and chunked bodies', async () => {
    const post = (body: string | Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
      fetch(lenient, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    for (const body of ['{"query": "{ __typename }"', '"{ __typename }"', '42', '   ', '\ufeff{"query": ']) {
      const refused = await post(body);
      expect(refused.status, body).toBe(400);
      expect(((await refused.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0], body).toMatchObject({
        message: 'The request body is not valid JSON.',
        extensions: { code: 'BAD_REQUEST' },
      });
    }
    const query = JSON.stringify({ query: '{ __typename }' });
    for (const [name, answer] of [
      ['plain', await post(query)],
      ['with a byte order mark', await post(`\ufeff${query}`)],
      ['utf-8 named', await post(query, { 'content-type': 'application/json; charset=utf-8' })],
      ['gzip', await post(gzipSync(query), { 'content-encoding': 'gzip' })],
      ['chunked', await post(new Blob([query]).stream())],
    ] as const) {
      expect(answer.status, name).toBe(200);
      expect(await answer.json(), name).toEqual({ data: { __typename: 'Query' } });
    }
  });
});

describe('production', () => {
  it('turns off introspection and field suggestions, and does not state the limits', async () => {
    const production = await gatewayWith({ NODE_ENV: 'production', GRAPHQL_MAX_DEPTH: '3' });
    const introspection = await gql(production, '{ __schema { types { name } } }');
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
    expect(introspection.data).toBeUndefined();
    const typo = await gql(production, '{ mee { id } }');
    expect(typo.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(typo.errors?.[0]?.message).not.toMatch(/did you mean/i);
    const deep = await gql(production, '{ users { edges { node { id } } } }');
    expect(deep.errors?.[0]?.message).not.toMatch(/\d/);
    // Outside production the suggestion helps the developer.
    expect((await gql(lenient, '{ mee { id } }')).errors?.[0]?.message).toMatch(/did you mean "me"/i);
  });
});

describe('request budget', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a user or an address spent its budget', async () => {
    // Its own key prefix: the other gateways of this file spend from 127.0.0.1's budget too.
    const budgeted = await gatewayWith({ RATE_LIMIT_USER_PER_MINUTE: '3', RATE_LIMIT_IP_PER_MINUTE: '8', REDIS_KEY_PREFIX: `${redisPrefix}budget:` });
    const registered = await gql(budgeted, 'mutation { register(input: { email: "budget@example.com", password: "a budget password", displayName: "B" }) { accessToken } }');
    const token = registered.data.register.accessToken as string;
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(budgeted, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await last!.json()) as { errors: { extensions: object }[] }).errors[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    // Anonymous requests from the same address spend the address's budget (8, of which 5 are used).
    const anonymous: number[] = [];
    for (let i = 0; i < 4; i++) anonymous.push((await gql(budgeted, '{ __typename }')).status);
    expect(anonymous).toEqual([200, 200, 200, 429]);
  });

  it('passes a sign-in lockout through with Retry-After and 429', async () => {
    await gql(lenient, 'mutation { register(input: { email: "locked@example.com", password: "the right password", displayName: "L" }) { accessToken } }');
    for (let i = 0; i < 2; i++) await gql(lenient, `mutation { login(email: "locked@example.com", password: "wrong ${i} password") { accessToken } }`);
    const locked = await fetch(lenient, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { login(email: "locked@example.com", password: "the right password") { accessToken } }' }),
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await locked.json()) as { errors: { extensions: object }[] }).errors[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
  });
});

describe('the caller', () => {
  it("forwards the caller's address to the subgraphs, believing X-Forwarded-For only from a trusted proxy", async () => {
    const attempt = (url: string, email: string) =>
      gql(url, `mutation { login(email: "${email}", password: "not the password") { accessToken } }`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    await attempt(lenient, 'via-proxy@example.com');
    await attempt(strict, 'spoofed@example.com');
    const rows = await user.db
      .fork()
      .getConnection()
      .execute(`select email, ip from audit_log where action = 'login.failed' and email in ('via-proxy@example.com', 'spoofed@example.com')`);
    expect(rows).toContainEqual({ email: 'via-proxy@example.com', ip: '203.0.113.9' });
    expect(rows).toContainEqual({ email: 'spoofed@example.com', ip: '127.0.0.1' });
  });

  it('stops a token at the gateway as soon as its session is revoked', async () => {
    const signedUp = await gql(lenient, 'mutation { register(input: { email: "revoked@example.com", password: "a revoked password", displayName: "R" }) { accessToken } }');
    const token = signedUp.data.register.accessToken as string;
    expect((await gql(lenient, '{ me { email } }', { token })).data.me.email).toBe('revoked@example.com');
    expect((await gql(lenient, 'mutation { logout }', { token })).data.logout).toBe(true);
    const after = await gql(lenient, '{ me { email } }', { token });
    expect(after.status).toBe(401);
    expect(after.errors?.[0]).toMatchObject({ message: 'The access token is not valid or has expired.', extensions: { code: 'UNAUTHENTICATED' } });
  });
});
