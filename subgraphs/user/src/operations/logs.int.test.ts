import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { openLogStore, type LogRow } from '@analytica/logstore';
import { createTcpProxy, dropSchema, gql, services, signInAdmin, TEST_SUBGRAPH_SIGNING_KEY, uniqueName } from '@analytica/testing';
import { parseUserEnv, startUserService } from '../index.js';

const run = uniqueName('user_logs');
const logSchema = `${run}_logs`;
const ADMIN = { email: 'ops-admin@example.com', password: 'the operations admin password' };
const databaseUrl = new URL(services.databaseUrl);
let proxy: Awaited<ReturnType<typeof createTcpProxy>>;
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;
let adminToken: string;
let userToken: string;
/** When the lines were written: their times are counted back from it. */
let seededAt: number;

const LOGS = `query($service: String, $level: LogLevel, $requestId: String, $since: DateTimeISO, $until: DateTimeISO, $first: Int, $after: String) {
  logs(service: $service, level: $level, requestId: $requestId, since: $since, until: $until, first: $first, after: $after) {
    available reason nextCursor entries { time service level message requestId traceId json }
  }
}`;

const row = (at: Date, service: string, level: number, msg: string, requestId: string | null): LogRow => ({
  time: at,
  service,
  source: service,
  level,
  msg,
  requestId,
  traceId: requestId ? `${requestId.padEnd(32, '0')}`.slice(0, 32) : null,
  line: JSON.stringify({ time: at.toISOString(), service, msg, requestId }),
});

beforeAll(async () => {
  // The log store is reached through a proxy the test can cut: the store "going down".
  proxy = await createTcpProxy({ host: databaseUrl.hostname, port: Number(databaseUrl.port || 5432) });
  const storeUrl = new URL(services.databaseUrl);
  storeUrl.host = `127.0.0.1:${proxy.port}`;
  const store = openLogStore({ url: services.databaseUrl, schema: logSchema });
  await store.migrate();
  seededAt = Date.now();
  const at = (secondsAgo: number) => new Date(seededAt - secondsAgo * 1000);
  await store.write(
    [
      row(at(50), 'gateway', 30, 'request', 'req-one'),
      row(at(49), 'budget', 30, 'request', 'req-one'),
      row(at(48), 'budget', 50, 'internal error', 'req-one'),
      // A worker consuming the request's event logs in its trace, without the request id.
      { ...row(at(47), 'payments-worker', 30, 'payment settled', null), traceId: 'req-one'.padEnd(32, '0') },
      row(at(40), 'gateway', 30, 'request', 'req-two'),
      row(at(30), 'user', 40, 'redis circuit open', null),
      ...Array.from({ length: 5 }, (_, i) => row(at(20 - i), 'market', 30, `tick ${i}`, null)),
    ],
    [],
  );
  await store.close();
  service = await startUserService(
    parseUserEnv({
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
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_STORE_URL: storeUrl.toString(),
      LOG_STORE_SCHEMA: logSchema,
      LOG_STORE_TIMEOUT_MS: '1000',
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
  await proxy?.close();
  await dropSchema(run);
  await dropSchema(logSchema);
});

describe('logs', () => {
  it("gives an administrator one request's lines from every service, and its trace's lines from the workers, newest first", async () => {
    const answer = await gql(url, LOGS, { token: adminToken, variables: { requestId: 'req-one' } });
    expect(answer.errors).toBeUndefined();
    const page = answer.data.logs;
    expect(page.available).toBe(true);
    expect(page.reason).toBeNull();
    expect(page.entries.map((e: { service: string; level: string; message: string }) => [e.service, e.level, e.message])).toEqual([
      ['payments-worker', 'INFO', 'payment settled'],
      ['budget', 'ERROR', 'internal error'],
      ['budget', 'INFO', 'request'],
      ['gateway', 'INFO', 'request'],
    ]);
    expect(page.entries[0]).toMatchObject({ requestId: null, traceId: expect.stringMatching(/^req-one0+$/) });
    expect(page.entries[1]).toMatchObject({ requestId: 'req-one', traceId: expect.stringMatching(/^req-one0+$/) });
    expect(JSON.parse(page.entries[1].json)).toMatchObject({ service: 'budget', msg: 'internal error' });
    expect(page.nextCursor).toBeNull();
  });

  it('filters by service, at-least level and time, and pages with the cursor', async () => {
    const warnings = await gql(url, LOGS, { token: adminToken, variables: { level: 'WARN' } });
    expect(warnings.data.logs.entries.map((e: { message: string }) => e.message)).toEqual(['redis circuit open', 'internal error']);
    const gateway = await gql(url, LOGS, { token: adminToken, variables: { service: 'gateway', since: new Date(seededAt - 45_000).toISOString() } });
    expect(gateway.data.logs.entries.map((e: { requestId: string }) => e.requestId)).toEqual(['req-two']);

    const first = await gql(url, LOGS, { token: adminToken, variables: { service: 'market', first: 2 } });
    expect(first.data.logs.entries.map((e: { message: string }) => e.message)).toEqual(['tick 4', 'tick 3']);
    const seen = [...first.data.logs.entries];
    let cursor = first.data.logs.nextCursor as string | null;
    while (cursor) {
      const next = await gql(url, LOGS, { token: adminToken, variables: { service: 'market', first: 2, after: cursor } });
      seen.push(...next.data.logs.entries);
      cursor = next.data.logs.nextCursor;
    }
    expect(seen.map((e: { message: string }) => e.message)).toEqual(['tick 4', 'tick 3', 'tick 2', 'tick 1', 'tick 0']);
  });

  it('refuses arguments it cannot use, naming them', async () => {
    const tooMany = await gql(url, LOGS, { token: adminToken, variables: { first: 501 } });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const badCursor = await gql(url, LOGS, { token: adminToken, variables: { after: 'not-a-cursor' } });
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const backwards = await gql(url, LOGS, { token: adminToken, variables: { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' } });
    expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'since' });
  });

  it('is FORBIDDEN to anyone but an administrator, and gives them nothing', async () => {
    const answer = await gql(url, LOGS, { token: userToken, variables: { requestId: 'req-one' } });
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(answer.data?.logs ?? null).toBeNull();
    const anonymous = await gql(url, LOGS, { variables: { requestId: 'req-one' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers available: false with the reason while the store is down, and the lines again once it is back', async () => {
    proxy.cut();
    try {
      const started = performance.now();
      const answer = await gql(url, LOGS, { token: adminToken, variables: { requestId: 'req-one' } });
      expect(answer.errors).toBeUndefined();
      expect(answer.data.logs).toMatchObject({ available: false, entries: [], nextCursor: null, reason: expect.stringContaining('cannot be reached') });
      expect(performance.now() - started).toBeLessThan(5000);
      // The rest of the service does not notice.
      const me = await gql(url, '{ me { email } }', { token: adminToken });
      expect(me.data.me.email).toBe(ADMIN.email);
    } finally {
      proxy.restore();
    }
    const back = await gql(url, LOGS, { token: adminToken, variables: { requestId: 'req-one' } });
    expect(back.data.logs.available).toBe(true);
    expect(back.data.logs.entries).toHaveLength(4);
  });
});
