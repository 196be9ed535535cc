import { readFile } from 'node:fs/promises';
import { verifierFromEnv } from '@analytica/auth';
import { createLogger } from '@analytica/logger';
import { createHttpService, lifecycle } from '@analytica/service';
import { readSupergraphConfig } from '../composition.js';
import { registryRoutes } from './api.js';
import { createContractStore, readContractsConfig } from './contract-store.js';
import { migrate, openPool } from './db.js';
import type { RegistryEnv } from './environment.js';
import { RegistryError } from './errors.js';
import { createGatewayLog } from './gateways.js';
import { partnerAuthenticator } from './partners.js';
import { createRegistry } from './registry.js';
import { tokenAuthority } from './tokens.js';
import { createWebhooks } from './webhooks.js';
import { createUsageStore } from './usage.js';

export { parseRegistryEnv, registryEnvShape, type RegistryEnv } from './environment.js';
export { RegistryError } from './errors.js';
export { apiSchemaOf, classify, composeGraph, type ClassifiedChange } from './graph.js';
export { LATENCY_BOUNDS_MS, quantile } from './usage.js';
export { GATEWAY_INSTANCE_HEADER, GATEWAY_SCHEMA_VERSION_HEADER } from './gateways.js';
export { registryClient, type RegistryClient } from './client.js';
export { readContractsConfig, type ContractCheck, type ContractDefinition } from './contract-store.js';

/**
 * The schema registry service: immutable subgraph and schema versions in its own PostgreSQL
 * schema, composition on publish, usage-weighed checks, the supergraph for the gateway (ETag), and
 * per-minute usage from the gateway. The same HTTP skeleton as every service.
 */
export async function startRegistry(env: RegistryEnv) {
  const logger = createLogger('registry', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const pool = await resources.open(
    'postgres',
    () =>
      openPool(env.DATABASE_URL, env.DATABASE_SCHEMA, {
        statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
        lockTimeoutMs: env.DATABASE_LOCK_TIMEOUT_MS,
        onIdleConnectionLost: (err) => logger.warn({ err }, 'PostgreSQL closed an idle connection; the next query opens another'),
      }),
    (p) => p.end(),
  );
  await resources.run('migrations', () => migrate(pool, env.DATABASE_SCHEMA));
  const usage = createUsageStore(pool);
  const gateways = createGatewayLog(pool);
  const contracts = createContractStore(pool);
  const registry = createRegistry(pool, usage, contracts, { checkWindowDays: env.REGISTRY_CHECK_WINDOW_DAYS });
  await resources.run('subgraphs', () => registry.declareSubgraphs(env.REGISTRY_SUBGRAPHS));
  if (env.REGISTRY_CONTRACTS_CONFIG) {
    // Contracts are code (schema/contracts.yaml): created or updated at every start, before the SDL
    // seed, so that a publish of changed SDL shows in each contract's changelog. A bad file stops the
    // registry: serving partners a contract other than the one committed would be worse.
    const contractsPath = env.REGISTRY_CONTRACTS_CONFIG;
    await resources.run('contracts', async () => {
      try {
        const seeded = await contracts.seed(await readContractsConfig(contractsPath));
        logger.info({ contracts: seeded.map((c) => c.name), from: contractsPath }, 'contracts defined');
      } catch (error) {
        throw new Error(`REGISTRY_CONTRACTS_CONFIG: ${(error as Error).message}`);
      }
    });
  }
  if (!env.REGISTRY_ADMIN_TOKEN) logger.warn('REGISTRY_ADMIN_TOKEN is not set: no token can be made, only existing service tokens work');
  if (env.REGISTRY_SEED_CONFIG) {
    // Publishes the repository's SDL at every start: a no-op when nothing changed, a new version when
    // the code did (stack mode follows the working tree). A graph that does not compose is logged and
    // the registry keeps serving its last version.
    const seedPath = env.REGISTRY_SEED_CONFIG;
    await resources.run('seed', async () => {
      const entries = await readSupergraphConfig(seedPath);
      const subgraphs = await Promise.all(entries.map(async (e) => ({ name: e.name, url: e.url, sdl: await readFile(e.file, 'utf8') })));
      try {
        const result = await registry.publish(subgraphs, { author: 'seed' });
        logger.info({ version: result.version, changed: result.changed, from: seedPath }, 'published the repository SDL');
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        logger.error({ code: error.code, details: error.extra.details, from: seedPath }, `seed refused: ${error.message}`);
      }
    });
  }
  // Usage older than the retention window goes, hourly (and once now).
  const prune = () =>
    Promise.all([usage.prune(env.REGISTRY_USAGE_RETENTION_DAYS), gateways.prune()]).then(
      ([removed]) => removed && logger.info({ removed }, 'pruned usage beyond the retention window'),
      (err: unknown) => logger.warn({ err }, 'pruning usage failed; trying again in an hour'),
    );
  void prune();
  await resources.open(
    'usage pruning',
    () => setInterval(() => void prune(), 3600_000).unref(),
    (timer) => clearInterval(timer),
  );
  const tokens = tokenAuthority(pool, env.REGISTRY_ADMIN_TOKEN);
  // Partner routes verify partners' access tokens; without JWKS_URL they refuse every call, and the
  // registry opens no Redis connection (CI's throwaway registry has no user service).
  const verifier = env.JWKS_URL
    ? await resources.open(
        'token verifier',
        () => verifierFromEnv({ ...env, JWKS_URL: env.JWKS_URL! }),
        (v) => v.close(),
      )
    : undefined;
  // Partners' webhooks: new contract versions, delivered in the background (durable, at least once).
  const webhooks = await resources.open(
    'webhook deliveries',
    () => {
      const w = createWebhooks(pool, { logger, allowPrivate: env.REGISTRY_WEBHOOK_ALLOW_PRIVATE, intervalMs: env.REGISTRY_WEBHOOK_INTERVAL_SECONDS * 1000 });
      w.start();
      return w;
    },
    (w) => w.stop(),
  );
  const service = createHttpService({
    name: 'registry',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    readiness: { postgres: () => pool.query('select 1') },
    routes: (app) =>
      registryRoutes(app, { registry, usage, tokens, contracts, webhooks, gateways, partners: partnerAuthenticator(verifier), partnerApiUrl: env.PARTNER_API_URL, logger }),
    onStop: resources.closeAll,
  });
  const running = await resources.run('http server', () => service.start());
  return { ...running, registry, usage, tokens, contracts, webhooks, gateways };
}
export type RunningRegistry = Awaited<ReturnType<typeof startRegistry>>;
