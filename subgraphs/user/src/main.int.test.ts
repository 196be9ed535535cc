import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { dropSchema, gatewaySignature, services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const schema = uniqueName('user_main');

describeServiceProcess({
  name: 'user',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    REDIS_URL: services.redisUrl,
    // Its own prefix: registrations are counted per address in Redis.
    REDIS_KEY_PREFIX: `${schema}:`,
    JWT_PRIVATE_KEY: generateSigningKeyPem(),
  }),
  badEnv: { PORT: 'eighty', DATABASE_URL: 'not a url', JWT_PRIVATE_KEY: 'not a key' },
  dependencies: ['postgres', 'redis'],
  // A registration (argon2 hashing) is in flight when the signal arrives.
  inFlight: async (url) => {
    const body = JSON.stringify({ query: 'mutation { register(input: { email: "late@example.com", password: "long enough password", displayName: "Late" }) { user { email } } }' });
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...gatewaySignature(`${url}/graphql`, body) }, body });
    const answer = (await response.json()) as { data?: { register: { user: { email: string } } } };
    expect(answer.data?.register.user.email).toBe('late@example.com');
  },
  cleanup: async () => {
    await dropSchema(schema);
    const redis = createRedis(services.redisUrl);
    const keys = await redis.keys(`${schema}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  },
});
