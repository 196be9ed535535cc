// The user service and the gateway as their own processes (as stack mode runs them), against the
// real PostgreSQL and Redis, with this run's own schema and key prefix; request limits out of the way.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { dropSchema, freePort, gql, services, TEST_SUBGRAPH_SIGNING_KEY, uniqueName } from '@analytica/testing';
import { buildUserSchema } from '@analytica/user-subgraph';
import { entryOf, spawnService, stopProcess, waitUntilReady } from '@analytica/dev/processes';

export const say = (line = '') => process.stdout.write(`${line}\n`);
export const USER = { email: 'bench@example.com', password: 'a benchmark password' };

export async function startAuthServices() {
  const run = uniqueName('bench_auth');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-auth-'));
  const stores = {
    LOG_LEVEL: 'warn',
    SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: `${run}:`,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${run}.`,
  };
  const [userPort, gatewayPort] = [await freePort(), await freePort()];
  // The gateway reads the supergraph at start: the user subgraph alone, composed beforehand.
  const composed = compose([{ name: 'user', url: `http://127.0.0.1:${userPort}/graphql`, sdl: printSdl(await buildUserSchema()) }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  const user = spawnService(
    'user',
    entryOf('user'),
    userPort,
    {
      ...stores,
      DATABASE_SCHEMA: `${run}_user`,
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
      REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
      // Wrong passwords are timed too: no lockout in the way.
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
      LOGIN_MAX_FAILURES_PER_IP: '1000000',
    },
    dir,
  );
  const gateway = spawnService(
    'gateway',
    entryOf('gateway'),
    gatewayPort,
    {
      ...stores,
      SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
      SUPERGRAPH_WATCH: 'false',
      SUBGRAPH_USER_URL: `${user.url}/graphql`,
      JWKS_URL: `${user.url}/.well-known/jwks.json`,
      RATE_LIMIT_USER_PER_MINUTE: '100000000',
      RATE_LIMIT_IP_PER_MINUTE: '100000000',
    },
    dir,
  );
  const stop = async () => {
    await Promise.all([stopProcess(gateway), stopProcess(user)]);
    await dropSchema(`${run}_user`);
    const redis = createRedis(services.redisUrl);
    const keys = await redis.keys(`${run}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all([waitUntilReady(user), waitUntilReady(gateway)]);
    const registered = await gql(`${gateway.url}/graphql`, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
      variables: { i: { ...USER, displayName: 'Bench' } },
    });
    if (registered.errors) throw new Error(JSON.stringify(registered.errors));
    return {
      userUrl: `${user.url}/graphql`,
      gatewayUrl: `${gateway.url}/graphql`,
      gatewayPid: gateway.child.pid!,
      token: registered.data.register.accessToken as string,
      keyPrefix: `${run}:`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
