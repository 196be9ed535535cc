import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { ConfigError } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { createHttpService, type RunningService } from '@analytica/service';
import { dropSchema, freePort, gql, services, signInAdmin, TEST_SUBGRAPH_SIGNING_KEY, uniqueName } from '@analytica/testing';
import { parseUserEnv, startUserService } from '../index.js';

const run = uniqueName('user_health');
const ADMIN = { email: 'health-admin@example.com', password: 'the health admin password' };
const TIMEOUT_MS = 600;
const HEALTH = '{ serviceHealth { service url ready checks { name ok detail } checkedAt latencyMs error } }';
let ready: RunningService;
let notReady: RunningService;
let hanging: http.Server;
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;
let adminToken: string;
let userToken: string;

const baseEnv = {
  SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
  PORT: '0',
  LOG_LEVEL: 'silent',
  DATABASE_URL: services.databaseUrl,
  DATABASE_SCHEMA: run,
  KAFKA_BROKERS: services.kafkaBrokers,
  KAFKA_TOPIC_PREFIX: `${run}.`,
  REDIS_URL: services.redisUrl,
  REDIS_KEY_PREFIX: `${run}:`,
  JWT_PRIVATE_KEY: generateSigningKeyPem(),
};

beforeAll(async () => {
  const logger = createLogger('test', 'silent');
  // Two real services with the shared skeleton's /ready: one whose dependencies answer, one whose database does not.
  ready = await createHttpService({ name: 'budget', port: 0, logger, readiness: { postgres: async () => 'ok', redis: async () => 'ok' } }).start();
  notReady = await createHttpService({
    name: 'payment',
    port: 0,
    logger,
    readiness: { postgres: () => Promise.reject(new Error('the database did not answer')), redis: async () => 'ok' },
  }).start();
  // One that accepts and never answers, and one that is not there at all.
  hanging = http.createServer(() => undefined);
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  const gone = await freePort();
  service = await startUserService(
    parseUserEnv({
      ...baseEnv,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      OPERATIONS_SERVICES: [
        `budget=${ready.url}`,
        `payment=${notReady.url}`,
        `market=http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
        `news=http://127.0.0.1:${gone}/`,
        // Two more that hang: asked one after the other, the three would take three timeouts.
        `insight=http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
        `registry=http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
      ].join(','),
      OPERATIONS_HEALTH_TIMEOUT_MS: String(TIMEOUT_MS),
    }),
  );
  url = `${service.url}/graphql`;
  adminToken = (await signInAdmin(url, ADMIN)).accessToken;
  const registered = await gql(url, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
    variables: { i: { email: `${run}@example.com`, password: 'a user password here', displayName: 'Someone' } },
  });
  userToken = registered.data.register.accessToken;
});

afterAll(async () => {
  await service?.stop();
  await ready?.stop();
  await notReady?.stop();
  hanging?.closeAllConnections();
  await new Promise((resolve) => hanging?.close(resolve));
  await dropSchema(run);
});

describe('serviceHealth', () => {
  it("reports every configured service's /ready, asked in parallel, each within the timeout", async () => {
    const started = performance.now();
    const answer = await gql(url, HEALTH, { token: adminToken });
    const tookMs = performance.now() - started;
    expect(answer.errors).toBeUndefined();
    const byName = Object.fromEntries(answer.data.serviceHealth.map((s: { service: string }) => [s.service, s]));
    expect(answer.data.serviceHealth.map((s: { service: string }) => s.service)).toEqual(['budget', 'payment', 'market', 'news', 'insight', 'registry']);
    expect(byName.budget).toMatchObject({
      ready: true,
      error: null,
      checks: [
        { name: 'postgres', ok: true, detail: null },
        { name: 'redis', ok: true, detail: null },
      ],
    });
    expect(byName.budget.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(byName.budget.checkedAt)).toBeGreaterThan(Date.now() - 10_000);
    expect(byName.payment).toMatchObject({
      ready: false,
      error: 'answered 503',
      checks: [
        { name: 'postgres', ok: false, detail: 'unavailable: the database did not answer' },
        { name: 'redis', ok: true, detail: null },
      ],
    });
    expect(byName.market).toMatchObject({ ready: false, checks: [], latencyMs: null, error: `no answer within ${TIMEOUT_MS} ms` });
    expect(byName.news).toMatchObject({ ready: false, checks: [], error: expect.stringContaining('not reachable') });
    expect(byName.news.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(byName.registry).toMatchObject({ ready: false, error: `no answer within ${TIMEOUT_MS} ms` });
    // The three that hang cost one timeout together, not one each.
    expect(tookMs).toBeLessThan(TIMEOUT_MS * 2.5);
  });

  it('is FORBIDDEN to anyone but an administrator', async () => {
    const answer = await gql(url, HEALTH, { token: userToken });
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(answer.data?.serviceHealth ?? null).toBeNull();
  });

  it('refuses to start with an OPERATIONS_SERVICES it cannot use, naming the variable', () => {
    for (const value of ['gateway', 'gateway=ftp://127.0.0.1:4000', 'Gateway=http://127.0.0.1:4000', 'user=http://127.0.0.1:4001,user=http://127.0.0.1:4002']) {
      let error: unknown;
      try {
        parseUserEnv({ ...baseEnv, OPERATIONS_SERVICES: value });
      } catch (caught) {
        error = caught;
      }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message, value).toContain('OPERATIONS_SERVICES');
    }
    expect(parseUserEnv({ ...baseEnv, OPERATIONS_SERVICES: ' gateway=http://127.0.0.1:4000/ , user=http://127.0.0.1:4001' }).OPERATIONS_SERVICES).toEqual([
      { name: 'gateway', url: 'http://127.0.0.1:4000' },
      { name: 'user', url: 'http://127.0.0.1:4001' },
    ]);
  });
});
