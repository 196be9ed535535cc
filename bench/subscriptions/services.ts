// The system under test: the real market subgraph and the real gateway, each its own process as
// in stack mode, against the machine's Redis and dynalite, with a prefix no one else uses.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compose } from '@analytica/schema';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { freePort, services } from '@analytica/testing';
import { entryOf, repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '../../dev/src/processes.js';

export interface BenchEnvironment {
  /** Unique per bench run: Redis keys and channels start with `${name}:`, tables with `${name}_`. */
  name: string;
  redisPrefix: string;
  tablePrefix: string;
  /** Scratch folder: the composed supergraph and the services' logs. */
  dir: string;
  /** JWKS_URL, JWT_ISSUER, JWT_AUDIENCE of the test key. */
  authEnv: Record<string, string>;
}

export async function createEnvironment(name: string, authEnv: Record<string, string>): Promise<BenchEnvironment> {
  const dir = path.join(os.tmpdir(), name);
  await mkdir(dir, { recursive: true });
  return { name, redisPrefix: `${name}:`, tablePrefix: `${name}_`, dir, authEnv };
}

/** What both processes get; LOG_LEVEL=warn keeps per-connection logging out of the figures. */
function commonEnv(env: BenchEnvironment): Record<string, string> {
  return {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: env.redisPrefix,
    ...env.authEnv,
  };
}

export async function startMarket(env: BenchEnvironment): Promise<ServiceProcess> {
  const market = spawnService(
    'market',
    entryOf('market'),
    await freePort(),
    { ...commonEnv(env), DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: env.tablePrefix },
    path.join(env.dir, 'logs'),
  );
  await ready(market);
  return market;
}

/**
 * The subscription convention the gateway serves (issue 6): market declares these fields, tagged
 * public like Quote itself, so that identical subscriptions are shared across users (untagged, the
 * gateway scopes each one to its user and authorises every single subscription with an `_entities`
 * call). The gateway answers them from Redis; market is only asked for `_entities`.
 */
const PUBLIC = '@tag(name: "public")';
const CONVENTION_FIELDS = ['quotes(symbols: [String!]!): Quote!', 'quote(symbol: String!): Quote!'];

/**
 * The market SDL with the convention enforced where it differs (the market subgraph's declaration
 * of its subscription fields is work in progress); says what it changed.
 */
export function marketSdlWithConvention(sdl: string): { sdl: string; added: string[] } {
  const added: string[] = [];
  let result = sdl;
  const block = /^type Subscription\s*\{[^}]*\}/m.exec(result)?.[0];
  let patched = block ?? '';
  const missing: string[] = [];
  for (const field of CONVENTION_FIELDS) {
    if (!patched.includes(field)) missing.push(field);
    else if (!patched.includes(`${field} ${PUBLIC}`)) {
      patched = patched.replace(field, `${field} ${PUBLIC}`);
      added.push(`${PUBLIC} on Subscription.${field.slice(0, field.indexOf('('))}`);
    }
  }
  if (block) result = result.replace(block, patched);
  if (missing.length) {
    result += `\n${block ? 'extend ' : ''}type Subscription {\n${missing.map((f) => `  ${f} ${PUBLIC}`).join('\n')}\n}`;
    added.push(`Subscription.${missing.map((f) => f.slice(0, f.indexOf('('))).join(', ')}`);
  }
  const quoteType = /^type Quote\b[^{]*/m.exec(result)?.[0] ?? '';
  if (!quoteType.includes(PUBLIC)) {
    result += `\nextend type Quote ${PUBLIC}`;
    added.push(`${PUBLIC} on Quote`);
  }
  return { sdl: result, added };
}

/**
 * A supergraph of the market subgraph alone, from its SDL file: the bench measures the gateway's
 * fan-out, and with no other subgraph in the plan no event causes an `_entities` fetch.
 */
export async function writeMarketSupergraph(env: BenchEnvironment, marketUrl: string): Promise<{ file: string; added: string[] }> {
  const { sdl, added } = marketSdlWithConvention(await readFile(path.join(repoRoot, 'schema/subgraphs/market.graphql'), 'utf8'));
  const composed = compose([{ name: 'market', url: `${marketUrl}/graphql`, sdl }]);
  if (!composed.ok) throw new Error(`the market SDL does not compose:\n${composed.errors.join('\n')}`);
  const file = path.join(env.dir, 'supergraph.graphql');
  await writeFile(file, composed.supergraphSdl);
  return { file, added };
}

export interface GatewaySettings {
  maxBufferedBytes: number;
  slowClientCloseMs: number;
}

/** A fresh gateway per run: its metrics, memory and connections start from zero. */
export async function startGateway(env: BenchEnvironment, supergraphPath: string, marketUrl: string, settings: GatewaySettings): Promise<ServiceProcess> {
  const gateway = spawnService(
    'gateway',
    entryOf('gateway'),
    await freePort(),
    {
      ...commonEnv(env),
      SUPERGRAPH_PATH: supergraphPath,
      SUPERGRAPH_WATCH: 'false',
      SUBGRAPH_MARKET_URL: `${marketUrl}/graphql`,
      SUBSCRIPTION_MAX_BUFFERED_BYTES: String(settings.maxBufferedBytes),
      SUBSCRIPTION_SLOW_CLIENT_CLOSE_MS: String(settings.slowClientCloseMs),
    },
    path.join(env.dir, 'logs'),
  );
  await ready(gateway);
  return gateway;
}

/** Waits for /ready; a service that never gets there is stopped rather than left behind. */
async function ready(service: ServiceProcess) {
  try {
    await waitUntilReady(service, 60_000);
  } catch (error) {
    await stopProcess(service);
    throw error;
  }
}

export { stopProcess };

/** Deletes what the services left behind: Redis keys and DynamoDB tables with the bench's prefix. */
export async function removeData(env: BenchEnvironment): Promise<{ keys: number }> {
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
  return { keys };
}

export async function removeScratch(env: BenchEnvironment) {
  await rm(env.dir, { recursive: true, force: true });
}
