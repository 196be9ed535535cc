import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dropSchema, freePort, services, uniqueName } from '@analytica/testing';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('payments worker start-up and shutdown', () => {
  it('exits with a message naming a malformed variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, PAYMENT_RETRY_DELAYS_MS: '100,soon', BANK_API_URL: 'ftp://bank' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('payments-worker: Invalid configuration');
    expect(result.stderr).toMatch(/PAYMENT_RETRY_DELAYS_MS is "100,soon"/);
    expect(result.stderr).toMatch(/BANK_API_URL is "ftp:\/\/bank": must be a URL starting with http:\/\/ or https:\/\//);
  });

  it('serves /health, /ready and /metrics, and exits 0 on SIGTERM', async () => {
    const schema = uniqueName('payments_worker_main');
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATABASE_URL: services.databaseUrl,
        DATABASE_SCHEMA: schema,
        KAFKA_BROKERS: services.kafkaBrokers,
        KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
        REDIS_URL: services.redisUrl,
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = `http://127.0.0.1:${port}`;
      let ready: Response | undefined;
      for (let i = 0; i < 150 && !ready?.ok; i++) {
        ready = await fetch(`${url}/ready`).catch(() => undefined);
        if (!ready?.ok) await new Promise((r) => setTimeout(r, 200));
      }
      expect(await ready!.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok', kafka: 'ok', redis: 'ok' } });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(await (await fetch(`${url}/metrics`)).text()).toContain('service="payments-worker"');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await dropSchema(schema);
    }
  });
});
