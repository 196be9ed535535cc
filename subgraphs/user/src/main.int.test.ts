import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('user service start-up', () => {
  it('exits with a message naming a missing or malformed variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, PORT: 'eighty', DATABASE_URL: 'not a url' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('user: Invalid configuration');
    expect(result.stderr).toMatch(/PORT is "eighty"/);
    expect(result.stderr).toMatch(/DATABASE_URL is "not a url"/);
    expect(result.stderr).toMatch(/JWT_PRIVATE_KEY is missing/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('user service shutdown', () => {
  it('on SIGTERM finishes the request in flight, closes its pools and exits 0', async () => {
    const { spawn } = await import('node:child_process');
    const { generateSigningKeyPem } = await import('@analytica/auth');
    const { dropSchema, freePort, services, uniqueName } = await import('@analytica/testing');
    const schema = uniqueName('user_stop');
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        DATABASE_URL: services.databaseUrl,
        DATABASE_SCHEMA: schema,
        KAFKA_BROKERS: services.kafkaBrokers,
        KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
        REDIS_URL: services.redisUrl,
        // Its own prefix: registrations are counted per address in Redis.
        REDIS_KEY_PREFIX: `${schema}:`,
        JWT_PRIVATE_KEY: generateSigningKeyPem(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`${url}/ready`).then((r) => r.ok, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      // A registration (argon2 hashing) is in flight when the signal arrives.
      const inFlight = fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { register(input: { email: "late@example.com", password: "long enough password", displayName: "Late" }) { user { email } } }' }),
      });
      await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      const response = (await (await inFlight).json()) as { data?: { register: { user: { email: string } } } };
      expect(response.data?.register.user.email).toBe('late@example.com');
      expect(await exited).toBe(0);
      expect(output).toMatch(/"msg":"draining"/);
      expect(output).toMatch(/"msg":"stopped"/);
    } finally {
      child.kill('SIGKILL');
      await dropSchema(schema);
      const { createRedis } = await import('@analytica/redis');
      const redis = createRedis(services.redisUrl);
      const keys = await redis.keys(`${schema}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });
});
