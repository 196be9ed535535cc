import { fileURLToPath } from 'node:url';
import { services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

describeServiceProcess({
  name: 'market-feed',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ KAFKA_BROKERS: services.kafkaBrokers, KAFKA_TOPIC_PREFIX: `${uniqueName('feed_main')}.`, FEED_ALWAYS_OPEN: 'true', FEED_SYMBOLS: 'AAPL' }),
  badEnv: { FEED_MODE: 'dream', FEED_TICKS_PER_SECOND: '-5' },
  dependencies: ['kafka'],
  metrics: ['feed_ticks_published_total'],
});
