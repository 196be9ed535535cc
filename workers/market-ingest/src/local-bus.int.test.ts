import { afterAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createLocalBus, deadLetterTopic, encodeEvent, HEADER, type ReceivedMessage } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { quoteKey } from '@analytica/market-subgraph/store';
import { createRedis } from '@analytica/redis';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { parseMarketIngestEnv, startMarketIngest } from './index.js';

const schema = uniqueName('ingest_bus');
const keyPrefix = `${uniqueName('ingest_bus')}:`;
const tablePrefix = `${uniqueName('ingest_bus')}_`;

afterAll(async () => {
  await dropSchema(schema);
  const raw = createRedis(services.redisUrl);
  const keys = await raw.keys(`${keyPrefix}*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
  const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
  await deleteTablesWithPrefix(dynamo, tablePrefix);
  dynamo.close();
});

describe('market ingest on the embedded event log', () => {
  it('applies ticks from the local log one at a time, candles included, and dead-letters a malformed one', async () => {
    const logger = createLogger('test', 'silent');
    const bus = await createLocalBus({ databaseUrl: services.databaseUrl, schema, logger, pollMs: 20 });
    const redis = createRedis(services.redisUrl, { keyPrefix });
    const worker = await startMarketIngest(
      parseMarketIngestEnv({ PORT: '0', LOG_LEVEL: 'silent', REDIS_KEY_PREFIX: keyPrefix, DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: tablePrefix }),
      { bus, redis },
    );
    const dead: ReceivedMessage[] = [];
    const watcher = await bus.consume({ groupId: 'watch', topics: [deadLetterTopic('market.ticks.v1')], handle: async (m) => void dead.push(m) });
    try {
      const at = new Date().toISOString();
      await bus.publish('market.ticks.v1', [
        { key: 'SAP.DE', value: '{"symbol":"SAP.DE"}', headers: {} },
        encodeEvent('market.ticks.v1', 'SAP.DE', { symbol: 'SAP.DE', region: 'EU', last: 240.5, bid: 240.4, ask: 240.6, size: 25, exchangeTime: at, seq: 1 }),
      ]);
      const quote = await eventually(
        async () => {
          const fields = await redis.hgetall(quoteKey('EU', 'SAP.DE'));
          return fields.last === '240.5' ? fields : undefined;
        },
        10_000,
        50,
      );
      expect(quote).toMatchObject({ previousClose: '232.4', volume: '25', marketState: 'OPEN', seq: '1' });
      await eventually(async () => (dead.length === 1 ? true : undefined), 10_000, 50);
      expect(dead[0]!.headers[HEADER.reason]).toMatch(/^malformed message: region: /);
      // The quote is in Redis before the tick's candles are written (then the log commits it).
      await eventually(
        async () => {
          const metrics = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
          return /market_ingest_candle_writes_total\{service="market-ingest"\} 4\b/.test(metrics) ? true : undefined;
        },
        10_000,
        50,
      );
      expect(await (await fetch(`${worker.url}/ready`)).json()).toMatchObject({ checks: { events: 'ok' } });
    } finally {
      await watcher.stop();
      await worker.stop();
      await bus.close();
      await redis.quit();
    }
  });
});
