export * from './contracts.js';
export * from './bus.js';
export * from './consumer.js';
export * from './outbox.js';
export { createKafkaBus } from './kafka.js';
export { createLocalBus } from './local.js';

import type { Logger } from '@analytica/logger';
import { createKafkaBus as kafkaBus } from './kafka.js';
import type { EventBus as Bus } from './bus.js';

/** The service's bus: the one the embedded runner hands in, or Kafka from KAFKA_BROKERS. */
export function busFromEnv(env: { KAFKA_BROKERS: string[]; KAFKA_TOPIC_PREFIX: string; KAFKA_SESSION_TIMEOUT_MS?: number }, clientId: string, logger: Logger, injected?: Bus): Bus {
  return injected ?? kafkaBus({ brokers: env.KAFKA_BROKERS, clientId, prefix: env.KAFKA_TOPIC_PREFIX, logger, sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS });
}
