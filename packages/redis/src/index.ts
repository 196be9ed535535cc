import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';

export { Redis };

/**
 * `redis://...` connects to a real server; `memory://` gives an in-process stand-in with the
 * same API (used only by the embedded run mode, never by tests of Redis behaviour).
 */
export function createRedis(url: string, options: { keyPrefix?: string; name?: string; onError?: (error: Error) => void } = {}): Redis {
  if (url.startsWith('memory://')) {
    return new (RedisMock as unknown as typeof Redis)({ keyPrefix: options.keyPrefix });
  }
  const client = new Redis(url, {
    keyPrefix: options.keyPrefix,
    connectionName: options.name,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
  // ioredis reconnects by itself; without a listener it would print every lost connection to stderr.
  client.on('error', options.onError ?? (() => {}));
  return client;
}

export async function pingRedis(redis: Redis) {
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
}
