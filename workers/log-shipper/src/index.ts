import client from 'prom-client';
import { createLogger } from '@analytica/logger';
import { openLogStore } from '@analytica/logstore';
import { createHttpService, lifecycle } from '@analytica/service';
import type { LogShipperEnv } from './environment.js';
import { createShipper } from './shipper.js';

export { logShipperEnvShape, parseLogShipperEnv, type LogShipperEnv } from './environment.js';
export { createShipper, type ShipperOptions } from './shipper.js';

/**
 * Starts the log shipper: every `<name>.log` of LOG_SHIPPER_DIR into the central log store, with
 * retention; /health, /ready (the store answers) and /metrics like every worker.
 */
export async function startLogShipper(env: LogShipperEnv) {
  const logger = createLogger('log-shipper', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const store = await resources.open(
    'log store',
    () => openLogStore({ url: env.LOG_STORE_URL, schema: env.LOG_STORE_SCHEMA, poolMax: 2 }),
    (s) => s.close(),
  );
  const registry = new client.Registry();
  const shipper = createShipper({
    store,
    dir: env.LOG_SHIPPER_DIR,
    logger,
    registry,
    retentionDays: env.LOG_RETENTION_DAYS,
    pollMs: env.LOG_SHIPPER_POLL_MS,
    batchLines: env.LOG_SHIPPER_BATCH_LINES,
    retryMaxMs: env.LOG_SHIPPER_RETRY_MAX_MS,
  });
  // Started before the HTTP server and stopped after it: a store that is down at start is retried in
  // the background (the services never wait for it), and /ready says so meanwhile.
  await resources.open(
    'shipper',
    () => shipper.start(),
    () => shipper.stop(),
  );
  const service = createHttpService({
    name: 'log-shipper',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    registry,
    readiness: { 'log store': store.ping },
    onStop: resources.closeAll,
  });
  return resources.run('http server', () => service.start());
}
