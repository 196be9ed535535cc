import type { Logger } from '@analytica/logger';
import { openLogStore, type LogStore } from '@analytica/logstore';
import type { ServiceTarget } from './environment.js';

/**
 * What the operations fields (issue 16) read, made once per process and put on every request's
 * context as `ctx.operations`. Each part that reads a store of its own answers `available: false`
 * when that store is away, never failing the query.
 */
export interface Operations {
  /** The central log store (read only here; the log shipper writes it). */
  logStore: LogStore;
  /** The services `serviceHealth` asks, from OPERATIONS_SERVICES. */
  services: ServiceTarget[];
  healthTimeoutMs: number;
  logger: Logger;
}

export interface OperationsSettings {
  OPERATIONS_SERVICES: ServiceTarget[];
  OPERATIONS_HEALTH_TIMEOUT_MS: number;
  LOG_STORE_URL?: string;
  LOG_STORE_SCHEMA: string;
  LOG_STORE_TIMEOUT_MS: number;
  DATABASE_URL: string;
}

/** Opens what the operations fields read; `close` ends it on stop. Nothing is connected yet: a store that is down does not stop the service. */
export function openOperations(env: OperationsSettings, logger: Logger): Operations & { close(): Promise<void> } {
  const logStore = openLogStore({
    url: env.LOG_STORE_URL ?? env.DATABASE_URL,
    schema: env.LOG_STORE_SCHEMA,
    poolMax: 2,
    statementTimeoutMs: env.LOG_STORE_TIMEOUT_MS,
    connectTimeoutMs: Math.min(env.LOG_STORE_TIMEOUT_MS, 2000),
  });
  return {
    logStore,
    services: env.OPERATIONS_SERVICES,
    healthTimeoutMs: env.OPERATIONS_HEALTH_TIMEOUT_MS,
    logger,
    close: () => logStore.close(),
  };
}
