import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import express from 'express';
import { parse } from 'graphql';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { dropSchema, eventually, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { buildUserSchema, parseUserEnv, startUserService } from '@analytica/user-subgraph';
import { parseGatewayEnv, startGateway } from './index.js';

const schemaName = uniqueName('gw_test');
const redisPrefix = `${uniqueName('gw_test')}:`;
let dir: string;
let user: Awaited<ReturnType<typeof startUserService>>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let extra: http.Server;
let extraUrl: string;
let userSdl: string;

/** A second subgraph for the reload test: adds `User.nickname`. */
async function startNicknameSubgraph() {
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type User @key(fields: "id") { id: ID! nickname: String! }
  `);
  const schema = buildSubgraphSchema([{ typeDefs, resolvers: { User: { nickname: () => 'Ace' } } }]);
  const server = new ApolloServer({ schema });
  await server.start();
  const app = express();
  app.use('/graphql', express.json(), expressMiddleware(server));
  extra = http.createServer(app);
  await new Promise<void>((resolve) => extra.listen(0, '127.0.0.1', resolve));
  extraUrl = `http://127.0.0.1:${(extra.address() as AddressInfo).port}/graphql`;
  return {
    sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype User @key(fields: "id") { id: ID! nickname: String! }`,
    stop: () => server.stop(),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-test-'));
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
    }),
  );
  userSdl = printSdl(await buildUserSchema());
  const composed = compose([{ name: 'user', url: `${user.url}/graphql`, sdl: userSdl }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  gateway = await startGateway(
    parseGatewayEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
      SUPERGRAPH_WATCH: 'true',
      JWKS_URL: `${user.url}/.well-known/jwks.json`,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
    }),
  );
});

afterAll(async () => {
  await gateway?.stop();
  await user?.stop();
  await new Promise<void>((resolve) => (extra ? extra.close(() => resolve()) : resolve()));
  await dropSchema(schemaName);
  await rm(dir, { recursive: true, force: true });
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('gateway', () => {
  it('signs up through the gateway and forwards the token so that me resolves', async () => {
    const url = `${gateway.url}/graphql`;
    const registered = await gql(url, 'mutation { register(input: { email: "gw@example.com", password: "long enough password", displayName: "Gee" }) { accessToken } }');
    expect(registered.errors).toBeUndefined();
    const me = await gql(url, '{ me { email displayName } }', { token: registered.data.register.accessToken });
    expect(me.data.me).toEqual({ email: 'gw@example.com', displayName: 'Gee' });
  });

  it('refuses a malformed Authorization header with 401 before any subgraph is asked', async () => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic Zm9vOmJhcg==' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses batched requests', async () => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('reloads the supergraph when the file changes, without a restart', async () => {
    const url = `${gateway.url}/graphql`;
    const login = await gql(url, 'mutation { login(email: "gw@example.com", password: "long enough password") { accessToken } }');
    const token = login.data.login.accessToken;
    const before = await gql(url, '{ me { nickname } }', { token });
    expect(before.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const nickname = await startNicknameSubgraph();
    const composed = compose([
      { name: 'user', url: `${user.url}/graphql`, sdl: userSdl },
      { name: 'nickname', url: extraUrl, sdl: nickname.sdl },
    ]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);

    const after = await eventually(async () => {
      const response = await gql(url, '{ me { email nickname } }', { token });
      return response.data?.me ? response : undefined;
    }, 10_000);
    expect(after.data.me).toEqual({ email: 'gw@example.com', nickname: 'Ace' });
    await nickname.stop();
  });

  it("shares identical in-flight requests, executions and subgraph calls only within one caller: two users' same queries at once each get their own data", async () => {
    const url = `${gateway.url}/graphql`;
    const tokenOf = async (email: string) => {
      const registered = await gql(url, `mutation { register(input: { email: "${email}", password: "long enough password", displayName: "Twin" }) { accessToken } }`);
      return registered.data.register.accessToken as string;
    };
    const callers = [
      { email: 'twin-a@example.com', token: await tokenOf('twin-a@example.com') },
      { email: 'twin-b@example.com', token: await tokenOf('twin-b@example.com') },
    ];
    const counters = async () => {
      const text = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
      return {
        requests: value(/^gateway_requests_shared_total(?:\{[^}]*\})? (\d+)/m),
        executions: value(/^gateway_executions_shared_total(?:\{[^}]*\})? (\d+)/m),
        fetches: value(/^gateway_subgraph_fetches_shared_total\{subgraph="user"[^}]*\} (\d+)/m),
      };
    };
    const before = await counters();
    // Rounds of requests sent together by both users: the same body and headers (shared as a
    // request), the same body with another Accept header (shared as an execution), and another
    // document needing the same fetch from the user service (shared as a fetch). Every answer must
    // be its own caller's, however much the gateway shared.
    const variants = [
      { query: '{ me { email } }', accept: 'application/json' },
      { query: '{ me { email } }', accept: 'application/graphql-response+json, application/json' },
      { query: '{ me { email } __typename }', accept: 'application/json' },
    ];
    await eventually(async () => {
      const round = Array.from({ length: 48 }, (_, i) => ({ caller: callers[i % 2]!, variant: variants[Math.floor(i / 2) % 3]! }));
      const answers = await Promise.all(round.map(({ caller, variant }) => gql(url, variant.query, { token: caller.token, headers: { accept: variant.accept } })));
      answers.forEach((answer, i) => expect(answer.data?.me).toEqual({ email: round[i]!.caller.email }));
      const now = await counters();
      return now.requests > before.requests && now.executions > before.executions && now.fetches > before.fetches ? true : undefined;
    }, 15_000);
  });
});
