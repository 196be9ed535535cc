// A small stack for one fault test: the user subgraph (sign-in), the subgraphs a case needs with the
// environment it gives each (typically a dependency's address pointing at a fault proxy), and a
// gateway over them; every other subgraph of the committed supergraph points at a closed port.
// Each process logs to .data/test-logs/<run>/<name>.log.
import path from 'node:path';
import { generateSigningKeyPem } from '@analytica/auth';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { dropSchema, freePort, gql, isolatedRunEnv, services, uniqueName } from '@analytica/testing';
import { entryOf, repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess, type SubgraphName } from '../../dev/src/processes.js';

export const NOWHERE = 'http://127.0.0.1:9/graphql';
const POSTGRES_SUBGRAPHS = new Set(['user', 'budget', 'payment', 'insight']);

export interface FaultStackOptions {
  /** The subgraphs to run besides user, each with extra environment. */
  subgraphs?: Partial<Record<Exclude<SubgraphName, 'user'>, Record<string, string>>>;
  /** Subgraph URLs the gateway uses instead (e.g. a server that never answers). */
  urls?: Partial<Record<SubgraphName, string>>;
  /** Ports to run subgraphs on (e.g. one a fault proxy in front of it forwards to). */
  ports?: Partial<Record<SubgraphName, number>>;
  gatewayEnv?: Record<string, string>;
}

export async function startFaultStack(prefix: string, options: FaultStackOptions = {}) {
  const run = uniqueName(prefix);
  const logDir = path.join(repoRoot, '.data/test-logs', run);
  const shared = { ...isolatedRunEnv(run), LOG_LEVEL: 'warn', NODE_ENV: 'test' };
  const processes: ServiceProcess[] = [];
  const metrics = async () => String(await freePort());
  const user = spawnService(
    'user',
    entryOf('user'),
    await freePort(),
    { ...shared, DATABASE_SCHEMA: `${run}_user`, JWT_PRIVATE_KEY: generateSigningKeyPem(), METRICS_PORT: await metrics() },
    logDir,
  );
  processes.push(user);
  const tokens = { JWKS_URL: `${user.url}/.well-known/jwks.json` };
  const urls: Record<string, string> = { user: `${user.url}/graphql` };
  for (const [name, env] of Object.entries(options.subgraphs ?? {}) as [SubgraphName, Record<string, string>][]) {
    const service = spawnService(
      name,
      entryOf(name),
      options.ports?.[name] ?? (await freePort()),
      { ...shared, ...tokens, DATABASE_SCHEMA: `${run}_${name}`, METRICS_PORT: await metrics(), ...env },
      logDir,
    );
    processes.push(service);
    urls[name] = `${service.url}/graphql`;
  }
  const subgraphUrl = (name: SubgraphName) => options.urls?.[name] ?? urls[name] ?? NOWHERE;
  const gateway = spawnService(
    'gateway',
    entryOf('gateway'),
    await freePort(),
    {
      ...shared,
      ...tokens,
      SUPERGRAPH_WATCH: 'false',
      SUBGRAPH_USER_URL: subgraphUrl('user'),
      SUBGRAPH_BUDGET_URL: subgraphUrl('budget'),
      SUBGRAPH_MARKET_URL: subgraphUrl('market'),
      SUBGRAPH_NEWS_URL: subgraphUrl('news'),
      SUBGRAPH_PAYMENT_URL: subgraphUrl('payment'),
      SUBGRAPH_INSIGHT_URL: subgraphUrl('insight'),
      METRICS_PORT: await metrics(),
      ...options.gatewayEnv,
    },
    logDir,
  );
  processes.push(gateway);
  try {
    await Promise.all(processes.map((service) => waitUntilReady(service)));
  } catch (error) {
    await Promise.all(processes.map((p) => stopProcess(p)));
    throw error;
  }
  const gatewayUrl = `${gateway.url}/graphql`;

  return {
    run,
    logDir,
    gatewayUrl,
    processes,
    shared,
    tokens,
    /** Registers a user through the gateway and answers its access token. */
    async register(label: string): Promise<{ email: string; token: string }> {
      const email = `${run}-${label}@faults.analytica.dev`;
      const registered = await gql(gatewayUrl, 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
        variables: { input: { email, password: 'fault-injection-password-123', displayName: 'Fault Injection' } },
      });
      if (registered.errors) throw new Error(`register failed: ${JSON.stringify(registered.errors)}`);
      return { email, token: registered.data.register.accessToken as string };
    },
    /** Stops every process and removes the run's schemas, tables and keys. */
    async stop() {
      await Promise.all(processes.map((p) => stopProcess(p)));
      const names = ['user', ...Object.keys(options.subgraphs ?? {})];
      for (const name of names) if (POSTGRES_SUBGRAPHS.has(name)) await dropSchema(`${run}_${name}`);
      if (names.includes('news') || names.includes('market')) {
        const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
        await deleteTablesWithPrefix(dynamo, `${run}_`).catch(() => {});
        dynamo.close();
      }
      const redis = createRedis(services.redisUrl);
      const keys = await redis.keys(`${run}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}

export type FaultStack = Awaited<ReturnType<typeof startFaultStack>>;

export interface Answer<T = any> {
  status: number;
  ms: number;
  body: { data?: T; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[] };
}

/** One POST to the gateway, timed, with a client-side limit so that a hang fails the test rather than stalling it. */
export async function ask<T = any>(url: string, query: string, token?: string, variables?: Record<string, unknown>, limitMs = 30_000): Promise<Answer<T>> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(limitMs),
  });
  const body = (await response.json()) as Answer<T>['body'];
  return { status: response.status, ms: performance.now() - started, body };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks every `intervalMs` until `ok` holds (or `limitMs` passes): answers the time it took and the last answer. */
export async function recovery<T>(probe: () => Promise<T>, ok: (value: T) => boolean, limitMs = 20_000, intervalMs = 100) {
  const started = performance.now();
  let last: T;
  for (;;) {
    last = await probe();
    if (ok(last) || performance.now() - started > limitMs) break;
    await sleep(intervalMs);
  }
  return { ms: Math.round(performance.now() - started), last };
}
