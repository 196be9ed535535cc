import { url, z } from '@analytica/config';
import type { Logger } from '@analytica/logger';
import { prometheusAlerts, type AlertsSource } from './alerts.js';
import { kafkaOperations, noKafka, type KafkaOperations } from './kafka.js';
import { registryReads, type RegistryReads } from './registry-reads.js';

/**
 * What the metrics side of the operations fields (issue 16: alerts, consumer lag, dead letters,
 * gateways, usage) reads, made once at start (index.ts) and put on every request's context as
 * `ctx.monitoring`. Each source that is unset or away answers `available: false` with a reason.
 */
export interface Monitoring {
  alerts: AlertsSource;
  kafka: KafkaOperations;
  registry: RegistryReads;
}

/** Spread into the user service's environment. */
export const monitoringEnvShape = {
  /** Prometheus' base URL, whose /api/v1/alerts `alerts` reads (stack mode sets it); unset: `alerts` is unavailable. */
  PROMETHEUS_URL: url(['http', 'https']).optional(),
  /** The schema registry's base URL, which `gatewayInstances` and `operationUsage` read (stack mode sets it). */
  REGISTRY_URL: url(['http', 'https']).optional(),
  /** A registry service token with the `read` scope, for the same fields. */
  REGISTRY_TOKEN: z.string().min(1).optional(),
};

export interface MonitoringSettings {
  PROMETHEUS_URL?: string;
  REGISTRY_URL?: string;
  REGISTRY_TOKEN?: string;
  KAFKA_BROKERS: string[];
  KAFKA_TOPIC_PREFIX: string;
}

/**
 * `kafka`: whether events go through Kafka (busFromEnv) or the embedded log of npm start, which has
 * no consumer groups or topics to ask a broker about.
 */
export function openMonitoring(env: MonitoringSettings, options: { kafka: boolean; logger: Logger }): Monitoring {
  return {
    alerts: prometheusAlerts(env.PROMETHEUS_URL),
    kafka: options.kafka
      ? kafkaOperations({ brokers: env.KAFKA_BROKERS, prefix: env.KAFKA_TOPIC_PREFIX, logger: options.logger })
      : noKafka(
          'This deployment has no Kafka: events go through the embedded event log in PostgreSQL (npm start), which keeps no consumer groups or dead-letter topics on a broker.',
        ),
    registry: registryReads({ url: env.REGISTRY_URL, token: env.REGISTRY_TOKEN }),
  };
}
