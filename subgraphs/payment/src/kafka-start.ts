import type { Logger } from '@analytica/logger';

/**
 * Starts a consumer, trying again a few times on errors Kafka marks retriable: while another
 * process creates the same topic, the broker answers "unknown topic or partition" for a moment.
 */
export async function startConsumerWithRetries<T>(what: string, logger: Logger, start: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true || /^KafkaJS/.test((error as Error)?.name ?? '');
      if (attempt >= attempts || !retriable) throw error;
      logger.warn({ err: error, attempt }, `${what} could not start yet; trying again`);
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}
