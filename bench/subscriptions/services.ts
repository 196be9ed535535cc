// The system under test: the whole stack as `npm run stack` starts it (dev/src/stack.ts
// `startStack`): six subgraphs, the gateway on the committed schema/supergraph.graphql, the
// market feed and market-ingest, the payment processes. Only where it runs differs from a plain
// `npm run stack`: free ports and a run-unique PostgreSQL schema prefix, Redis key prefix, Kafka
// topic prefix and DynamoDB table prefix, so that it never meets another engineer's stack or tests.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { createTokenIssuer } from '@analytica/auth';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { dropSchema, freePort, gql, isolatedRunEnv, services } from '@analytica/testing';
import { seedDemo } from '@analytica/dev/demo';
import { DEFAULT_PORTS, repoRoot, stopProcess, type ServiceProcess } from '@analytica/dev/processes';
import { localSecrets } from '@analytica/dev/secrets';
import { startStack, type RunningStack } from '@analytica/dev/stack';

export { stopProcess };

export interface BenchEnvironment {
  /** Unique per bench invocation: schemas `${run}_*`, Redis `${run}:`, topics `${run}.`, tables `${run}_`. */
  run: string;
  /** Scratch folder: the stack's secrets (its JWT key) and logs. */
  dir: string;
  dataDir: string;
  logDir: string;
  redisPrefix: string;
  topicPrefix: string;
  tablePrefix: string;
  schemaPrefix: string;
}

export async function createEnvironment(run: string): Promise<BenchEnvironment> {
  const dir = path.join(os.tmpdir(), run);
  await mkdir(dir, { recursive: true });
  return {
    run,
    dir,
    dataDir: path.join(dir, 'data'),
    logDir: path.join(dir, 'logs'),
    redisPrefix: `${run}:`,
    topicPrefix: `${run}.`,
    tablePrefix: `${run}_`,
    schemaPrefix: `${run}_`,
  };
}

/**
 * Where the stack's services run and what they share: the variables every stack test gives
 * startStack (`isolatedRunEnv`). None of them changes what a service does.
 */
export function isolationEnv(env: BenchEnvironment): Record<string, string> {
  return isolatedRunEnv(env.run);
}

/** The first `count` reference instruments (the file bundled with @analytica/instruments; all of them when no count is given): the symbols the feed trades and the clients watch. */
export async function benchSymbols(count?: number): Promise<string[]> {
  const file = JSON.parse(await readFile(path.join(repoRoot, 'packages/instruments/data/instruments.json'), 'utf8')) as { instruments: { symbol: string }[] };
  count ??= file.instruments.length;
  if (file.instruments.length < count) throw new Error(`the reference file has ${file.instruments.length} instruments, fewer than ${count}`);
  return file.instruments.slice(0, count).map((i) => i.symbol);
}

/**
 * The market feed's own documented variables (infra/simulators/market-feed/src/environment.ts):
 * configuration of the simulator, the way an operator sets them for `npm run stack`. Steady (the
 * default): every symbol trades exactly FEED_TICKS_PER_SYMBOL times a second on a regular beat
 * (FEED_STEADY_SYMBOLS). Weighted: the 200 ticks/s are shared by chance, large caps more often
 * (0.3 to 4 ticks/s a symbol), as the feed does for symbols that are not steady.
 */
export function feedEnv(symbols: string[], weighted = false): Record<string, string> {
  return {
    FEED_SYMBOLS: symbols.join(','),
    ...(weighted ? {} : { FEED_STEADY_SYMBOLS: symbols.join(',') }),
    FEED_TICKS_PER_SYMBOL: '1',
    FEED_ALWAYS_OPEN: 'true',
  };
}

export interface BenchStack {
  stack: RunningStack;
  gateway: ServiceProcess;
  /** http://127.0.0.1:<port>: /ready. */
  gatewayUrl: string;
  /** The gateway's private listener of /metrics (METRICS_PORT). */
  gatewayMetricsUrl: string;
  /** The GraphQL endpoint over HTTP and WebSocket. */
  graphqlUrl: string;
  wsUrl: string;
  /** Every process of the stack, by name, for CPU sampling. */
  pids: Record<string, number>;
  startSeconds: number;
}

/** startBenchStack, first saying which settings every service gets and where the logs go. */
export async function startBenchStackSaying(env: BenchEnvironment, settings: Record<string, string>): Promise<BenchStack> {
  const given = Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stdout.write(`starting the stack (${given}; logs in ${env.logDir})\n`);
  return startBenchStack(env, settings);
}

/** startStack with the isolation variables and the feed's settings, then the demo seed as `npm run stack` does. */
export async function startBenchStack(env: BenchEnvironment, feed: Record<string, string>): Promise<BenchStack> {
  const started = performance.now();
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  const stack = await startStack({
    ports,
    schemaPrefix: env.schemaPrefix,
    logDir: env.logDir,
    dataDir: env.dataDir,
    env: { ...isolationEnv(env), ...feed },
  });
  try {
    await seedDemo(stack.gatewayUrl);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return benchStackOf(stack, (performance.now() - started) / 1000);
}

/** What the benches read off a running stack: the first gateway's addresses and every process's pid (extra gateways too). */
export function benchStackOf(stack: RunningStack, startSeconds: number): BenchStack {
  const gateway = stack.services.get('gateway')!;
  const pids: Record<string, number> = {};
  for (const service of [...stack.services.values(), ...stack.gateways.slice(1)]) if (service.child.pid) pids[service.name] = service.child.pid;
  return {
    stack,
    gateway,
    gatewayUrl: gateway.url,
    gatewayMetricsUrl: gateway.metricsUrl,
    graphqlUrl: stack.gatewayUrl,
    wsUrl: `${gateway.url.replace('http', 'ws')}/graphql`,
    pids,
    startSeconds,
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens

export interface TokenFactory {
  /** Claims of a token the user service issued, and whether the bench's tokens match them. */
  check: { kid: string; issuer: string; audience: string; ttlSeconds: number; sameKey: boolean };
  /** A real access token of a user registered through the gateway. */
  registeredToken: string;
  /** One token per distinct user id, signed with the stack's own key exactly as the user service signs. */
  sign(count: number): string[];
  /** A fresh token for each one given: the same user, role and session, a new lifetime (what a client's refresh gives it). */
  renew(tokens: string[]): string[];
}

const decodePart = (token: string, part: 0 | 1) => JSON.parse(Buffer.from(token.split('.')[part]!, 'base64url').toString()) as Record<string, unknown>;

/**
 * Registering 10,000 users would take longer than the run (argon2id per password, and the
 * gateway allows 1,200 requests a minute from one address): the bench registers one user through
 * the gateway, reads the claims of the token the user service gave it, and signs one token per
 * client with the same key (the stack's own, dev/src/secrets.ts), issuer, audience and lifetime.
 * The gateway checks them like any other: RS256 signature against the JWKS, claims, revocation.
 */
export async function createTokenFactory(env: BenchEnvironment, graphqlUrl: string): Promise<TokenFactory> {
  const email = `bench-${randomBytes(6).toString('hex')}@example.com`;
  const password = `Bench-${randomBytes(12).toString('base64url')}`;
  const registered = await gql(graphqlUrl, 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
    variables: { input: { email, password, displayName: 'Bench Client', homeCurrency: 'EUR' } },
  });
  const registeredToken = registered.data?.register?.accessToken as string | undefined;
  if (!registeredToken) throw new Error(`could not register a bench user: ${JSON.stringify(registered.errors)}`);
  const header = decodePart(registeredToken, 0);
  const claims = decodePart(registeredToken, 1);
  const ttlSeconds = Number(claims.exp) - Number(claims.iat);
  const { jwtPrivateKey } = await localSecrets(env.dataDir);
  const issuer = createTokenIssuer(jwtPrivateKey, { issuer: String(claims.iss), audience: String(claims.aud), ttlSeconds });
  return {
    check: { kid: String(header.kid), issuer: String(claims.iss), audience: String(claims.aud), ttlSeconds, sameKey: issuer.kid === header.kid },
    registeredToken,
    sign(count) {
      return Array.from({ length: count }, () => issuer.issue({ id: randomUUID(), role: 'USER', sessionId: randomUUID() }, randomUUID()));
    },
    renew(tokens) {
      return tokens.map((token) => {
        const old = decodePart(token, 1);
        return issuer.issue({ id: String(old.sub), role: old.role as 'USER', sessionId: String(old.sid) }, randomUUID());
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What is measured, and what differs from the shipped defaults

export interface Provenance {
  /** git HEAD the working tree is based on. */
  head: string;
  /** Tracked files of the system under test that differ from HEAD (the working tree is shared). */
  uncommitted: string[];
  /** schema/supergraph.graphql in the working tree differs from HEAD's. */
  supergraphChanged: boolean;
  /** Variables in the bench's own environment that every service inherits and that change a service's behaviour. */
  inheritedEnv: string[];
}

/** Directories whose code runs in the stack. */
const SYSTEM_PATHS = ['gateway', 'subgraphs', 'workers', 'infra/simulators', 'packages', 'dev/src', 'schema', 'supergraph.yaml'];
/**
 * Variables the services read. spawnService passes the bench's environment on, so a LOG_LEVEL or
 * SUBSCRIPTION_* set in the shell would change the system: each one found is printed.
 */
const SERVICE_VARIABLES =
  /^(NODE_ENV|NODE_OPTIONS|LOG_LEVEL|HOST|SUBSCRIPTION_|SUPERGRAPH_|SUBGRAPH_|GRAPHQL_|RATE_LIMIT_|MAX_BODY_BYTES|TRUST_PROXY|JWT_|JWKS_URL|ACCESS_TOKEN_|INGEST_|FEED_|MARKET_|NEWS_|REDIS_|KAFKA_|DYNAMODB_|DATABASE_)/;

export async function provenance(): Promise<Provenance> {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD').trim();
  const uncommitted = git('status', '--porcelain', '--untracked-files=no', '--', ...SYSTEM_PATHS)
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3));
  const committed = git('show', 'HEAD:schema/supergraph.graphql');
  const current = await readFile(path.join(repoRoot, 'schema/supergraph.graphql'), 'utf8');
  return {
    head,
    uncommitted,
    supergraphChanged: committed !== current,
    inheritedEnv: Object.keys(process.env)
      .filter((k) => SERVICE_VARIABLES.test(k))
      .sort()
      .map((k) => `${k}=${process.env[k]}`),
  };
}

// ---------------------------------------------------------------------------------------------
// Cleanup

/** Deletes everything the run left behind: schemas, Redis keys, DynamoDB tables, Kafka topics. */
export async function removeData(env: BenchEnvironment): Promise<string> {
  const client = new pg.Client({ connectionString: services.databaseUrl });
  await client.connect();
  let schemas: string[] = [];
  try {
    schemas = (await client.query('select nspname from pg_namespace where starts_with(nspname, $1)', [env.schemaPrefix])).rows.map((r: { nspname: string }) => r.nspname);
  } finally {
    await client.end();
  }
  for (const schema of schemas) await dropSchema(schema);

  const redis = createRedis(services.redisUrl, { name: 'bench-cleanup' });
  let keys = 0;
  try {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${env.redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (batch.length) keys += await redis.del(...batch);
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }

  const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
  try {
    await deleteTablesWithPrefix(dynamo, env.tablePrefix);
  } finally {
    dynamo.close();
  }

  const admin = new Kafka({ clientId: 'bench-cleanup', brokers: [services.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  let topics: string[] = [];
  try {
    await admin.connect();
    topics = (await admin.listTopics()).filter((t) => t.startsWith(env.topicPrefix));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
  return `${schemas.length} schemas, ${keys} Redis keys, the ${env.tablePrefix}* tables and ${topics.length} Kafka topics`;
}

export async function removeScratch(env: BenchEnvironment) {
  await rm(env.dir, { recursive: true, force: true });
}
