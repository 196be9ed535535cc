import path from 'node:path';
import { DEMO_ADMIN } from './demo.js';
import { localSecrets } from './secrets.js';
import {
  DEFAULT_PORTS,
  entryOf,
  repoRoot,
  spawnService,
  stopProcess,
  SUBGRAPHS,
  waitUntilReady,
  type ServiceProcess,
  type SubgraphName,
} from './processes.js';

export interface StackOptions {
  ports?: Partial<typeof DEFAULT_PORTS>;
  /** Variables every service gets: DATABASE_URL, REDIS_URL, KAFKA_BROKERS, DYNAMODB_ENDPOINT, prefixes. */
  env?: Record<string, string>;
  /** Prefix for each service's PostgreSQL schema (tests use a unique one). */
  schemaPrefix?: string;
  logDir?: string;
  dataDir?: string;
}

export interface RunningStack {
  gatewayUrl: string;
  services: Map<SubgraphName | 'gateway', ServiceProcess>;
  stopService(name: SubgraphName | 'gateway'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Stack mode: every subgraph and the gateway as its own process against real PostgreSQL, Redis,
 * Kafka and a DynamoDB API server (see infra/ to start Kafka and dynalite).
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const secrets = await localSecrets(options.dataDir ?? path.join(repoRoot, '.data/stack'));
  const shared: Record<string, string> = {
    NODE_ENV: 'development',
    DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567',
    JWKS_URL: `http://127.0.0.1:${ports.user}/.well-known/jwks.json`,
    ...options.env,
  };
  const schemaPrefix = options.schemaPrefix ?? '';
  const perService: Record<SubgraphName, Record<string, string>> = {
    user: { JWT_PRIVATE_KEY: secrets.jwtPrivateKey, ADMIN_EMAIL: DEMO_ADMIN.email, ADMIN_PASSWORD: DEMO_ADMIN.password },
    budget: {},
    market: {},
    news: {},
    payment: { BANK_FINGERPRINT_SECRET: secrets.bankFingerprintSecret },
    insight: {},
  };
  const services = new Map<SubgraphName | 'gateway', ServiceProcess>();
  const stop = async () => {
    await Promise.all([...services.values()].map((s) => stopProcess(s)));
  };
  try {
    for (const name of SUBGRAPHS) {
      const env = { ...shared, ...perService[name], ...(schemaPrefix ? { DATABASE_SCHEMA: `${schemaPrefix}${name}` } : {}) };
      services.set(name, spawnService(name, entryOf(name), ports[name], env, options.logDir));
    }
    await Promise.all(SUBGRAPHS.map((name) => waitUntilReady(services.get(name)!)));
    const gatewayEnv: Record<string, string> = { ...shared };
    for (const name of SUBGRAPHS) gatewayEnv[`SUBGRAPH_${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[name]}/graphql`;
    const gateway = spawnService('gateway', entryOf('gateway'), ports.gateway, gatewayEnv, options.logDir);
    services.set('gateway', gateway);
    await waitUntilReady(gateway);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}/graphql`,
    services,
    async stopService(name) {
      const service = services.get(name);
      if (service) await stopProcess(service);
    },
    stop,
  };
}
