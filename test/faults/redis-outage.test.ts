// Redis paused and killed under a running gateway (issue 20, acceptance 1). The services reach
// Redis through a proxy in this process, so that only they lose it: the machine's Redis keeps
// serving the other tests that run at the same time.
//
// The rule under test (docs/ARCHITECTURE.md, "Dependency outages"): while Redis cannot answer, a
// valid token whose session a service saw not revoked within AUTH_REVOCATION_GRACE_SECONDS (60 s)
// is served as usual; any other token gets 503 SERVICE_UNAVAILABLE naming redis, with Retry-After;
// never 401. Each service on a request's path waits for Redis at most REDIS_COMMAND_TIMEOUT_MS
// (500 ms), and nothing once its circuit is open; after Redis returns, requests succeed again
// within REDIS_BREAKER_OPEN_MS (0.5 s, the interval of the background probe) plus a round trip.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis, DEFAULT_REDIS_BUDGET } from '@analytica/redis';
import { dropSchema, freePort, gql, isolatedRunEnv, services as infra, uniqueName } from '@analytica/testing';
import { entryOf, repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '../../dev/src/processes.js';
import { startFaultProxy } from '@analytica/testing/fault-proxy';

const run = uniqueName('faults_redis');
const logDir = path.join(repoRoot, '.data/test-logs', run);
/** The query touches the gateway, then the user subgraph, then the budget subgraph: three token checks in a row. */
const QUERY = '{ me { email accounts { name } } }';
const HOPS = 3;
/** Room for a busy two-core machine on top of the Redis waits the rule allows. */
const MACHINE_ALLOWANCE_MS = 1000;
const RECOVERY_LIMIT_MS = 2000;

const email = `${run}@faults.analytica.dev`;
const password = 'fault-injection-password-123';
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
const processes: ServiceProcess[] = [];
let gatewayUrl: string;
/** A session every service has checked just before the outage. */
let seenToken: string;

interface Outcome {
  token: 'seen' | 'unseen';
  status: number;
  ms: number;
  retryAfter: string | null;
  body: { data?: { me: { email: string; accounts: { name: string }[] } | null } | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function ask(token: string, label: Outcome['token']): Promise<Outcome> {
  const started = performance.now();
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await response.json()) as Outcome['body'];
  return { token: label, status: response.status, ms: performance.now() - started, retryAfter: response.headers.get('retry-after'), body };
}

const login = async () => {
  const response = await gql(gatewayUrl, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { variables: { e: email, p: password } });
  expect(response.errors).toBeUndefined();
  return response.data.login.accessToken as string;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Breaks Redis for `seconds` while asking once every 200 ms with the seen token and with a token
 * whose session no service has checked yet; then mends it and asks with the unseen one every
 * 100 ms until it is answered: the recovery time.
 */
async function outage(fault: 'pause' | 'kill', seconds: number) {
  // Every service checks the seen session once more, so that each has seen it not revoked just now.
  const before = await ask(seenToken, 'seen');
  expect({ status: before.status, body: before.body }).toEqual({ status: 200, body: { data: { me: { email, accounts: [{ name: 'Everyday' }] } } } });
  const unseenToken = await login();
  const during: Outcome[] = [];
  proxy[fault]();
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    during.push(...(await Promise.all([ask(seenToken, 'seen'), ask(unseenToken, 'unseen')])));
    await sleep(200);
  }
  proxy.resume();
  const back = performance.now();
  let recovered: Outcome;
  for (;;) {
    recovered = await ask(unseenToken, 'unseen');
    // Succeeding means the whole answer: every service on the path could check the session again.
    if ((recovered.status === 200 && recovered.body.errors === undefined) || performance.now() - back > 10_000) break;
    await sleep(100);
  }
  const recoveryMs = Math.round(performance.now() - back);
  const slowest = (token: Outcome['token']) => Math.round(Math.max(...during.filter((o) => o.token === token).map((o) => o.ms)));
  console.log(
    `redis ${fault === 'pause' ? 'paused' : 'killed'} for ${seconds} s: ${during.length} requests, slowest ${slowest('seen')} ms (seen session) / ${slowest('unseen')} ms (unseen session); ` +
      `requests succeed again ${recoveryMs} ms after Redis returned`,
  );
  return { during, recovered, recoveryMs, unseenToken };
}

function expectTheRule(during: Outcome[]) {
  const seen = during.filter((o) => o.token === 'seen');
  const unseen = during.filter((o) => o.token === 'unseen');
  expect(seen.length).toBeGreaterThanOrEqual(10);
  // Never a failed sign-in, never an internal error.
  expect(during.filter((o) => o.status === 401 || o.status === 500).map((o) => `${o.token}: ${o.status} ${JSON.stringify(o.body)}`)).toEqual([]);
  // The session checked just before: served as usual, by every subgraph.
  for (const outcome of seen) {
    expect({ status: outcome.status, body: outcome.body }).toEqual({ status: 200, body: { data: { me: { email, accounts: [{ name: 'Everyday' }] } } } });
  }
  // A session nobody could check: refused as an outage, naming Redis, with when to retry.
  for (const outcome of unseen) {
    expect(outcome.status).toBe(503);
    expect(Number(outcome.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(outcome.body.errors).toHaveLength(1);
    expect(outcome.body.errors![0]).toMatchObject({
      message: expect.stringMatching(/^The access token could not be checked right now: the revocation list \(Redis\) is not answering\. Keep the token and try again in \d+ s\.$/),
      extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'redis', retryAfterSeconds: Number(outcome.retryAfter) },
    });
  }
  // No request waits longer than the Redis budget of each service on its path.
  const limit = HOPS * DEFAULT_REDIS_BUDGET.commandTimeoutMs + MACHINE_ALLOWANCE_MS;
  expect(during.filter((o) => o.ms > limit).map((o) => `${o.token}: ${Math.round(o.ms)} ms`)).toEqual([]);
}

beforeAll(async () => {
  proxy = await startFaultProxy({ host: new URL(infra.redisUrl).hostname, port: Number(new URL(infra.redisUrl).port || 6379) });
  const shared = {
    ...isolatedRunEnv(run),
    // Every service reaches Redis only through the proxy; the budget variables keep their defaults.
    REDIS_URL: proxy.url,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
  };
  const [userPort, budgetPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const metrics = async () => String(await freePort());
  const user = spawnService(
    'user',
    entryOf('user'),
    userPort,
    { ...shared, DATABASE_SCHEMA: `${run}_user`, JWT_PRIVATE_KEY: generateSigningKeyPem(), METRICS_PORT: await metrics() },
    logDir,
  );
  const tokens = { JWKS_URL: `${user.url}/.well-known/jwks.json` };
  const budget = spawnService('budget', entryOf('budget'), budgetPort, { ...shared, ...tokens, DATABASE_SCHEMA: `${run}_budget`, METRICS_PORT: await metrics() }, logDir);
  processes.push(user, budget);
  // The committed supergraph; the subgraphs this test does not start point at a closed port. The
  // gateway starts beside the subgraphs (it needs them only per request): the test's wall time.
  const nowhere = 'http://127.0.0.1:9/graphql';
  const gateway = spawnService(
    'gateway',
    entryOf('gateway'),
    gatewayPort,
    {
      ...shared,
      ...tokens,
      SUPERGRAPH_WATCH: 'false',
      SUBGRAPH_USER_URL: `${user.url}/graphql`,
      SUBGRAPH_BUDGET_URL: `${budget.url}/graphql`,
      SUBGRAPH_MARKET_URL: nowhere,
      SUBGRAPH_NEWS_URL: nowhere,
      SUBGRAPH_PAYMENT_URL: nowhere,
      SUBGRAPH_INSIGHT_URL: nowhere,
      METRICS_PORT: await metrics(),
    },
    logDir,
  );
  processes.push(gateway);
  await Promise.all([user, budget, gateway].map((service) => waitUntilReady(service)));
  gatewayUrl = `${gateway.url}/graphql`;

  const registered = await gql(gatewayUrl, 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
    variables: { input: { email, password, displayName: 'Fault Injection' } },
  });
  expect(registered.errors).toBeUndefined();
  seenToken = registered.data.register.accessToken;
  const opened = await gql(
    gatewayUrl,
    'mutation { openAccount(input: { name: "Everyday", type: CHECKING, currency: "EUR", openingBalance: { amountMinor: 1000, currency: "EUR" } }) { id } }',
    { token: seenToken },
  );
  expect(opened.errors).toBeUndefined();
}, 180_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => stopProcess(p)));
  await proxy?.close();
  for (const name of ['user', 'budget']) await dropSchema(`${run}_${name}`);
  const redis = createRedis(infra.redisUrl);
  const keys = await redis.keys(`${run}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('Redis outage through the gateway', () => {
  it('paused for 20 s: no request waits past the budget, none is refused as a bad sign-in, and requests succeed again within 2 s', async () => {
    const { during, recovered, recoveryMs, unseenToken } = await outage('pause', 20);
    expectTheRule(during);
    expect(recovered.status).toBe(200);
    expect(recovered.body).toEqual({ data: { me: { email, accounts: [{ name: 'Everyday' }] } } });
    expect(recoveryMs).toBeLessThan(RECOVERY_LIMIT_MS);

    // Revocation works again at once: no verdict kept for the outage outlives it.
    const logout = await gql(gatewayUrl, 'mutation { logout }', { token: unseenToken });
    expect(logout.data).toEqual({ logout: true });
    const afterLogout = await ask(unseenToken, 'unseen');
    expect(afterLogout.status).toBe(401);
    expect(afterLogout.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }, 60_000);

  it('killed for 10 s (connections reset, new ones refused): the same rule, and the same recovery', async () => {
    const { during, recovered, recoveryMs } = await outage('kill', 10);
    expectTheRule(during);
    expect(recovered.status).toBe(200);
    expect(recovered.body).toEqual({ data: { me: { email, accounts: [{ name: 'Everyday' }] } } });
    expect(recoveryMs).toBeLessThan(RECOVERY_LIMIT_MS);
  }, 60_000);
});
