import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { eventually, services, uniqueName } from '@analytica/testing';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const prefix = uniqueName('ingest_main');

afterAll(async () => {
  const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
  await deleteTablesWithPrefix(dynamo, prefix);
  dynamo.close();
});

describe('market ingest process', () => {
  it('exits with a message naming a malformed variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, INGEST_FLUSH_MS: 'often', KAFKA_BROKERS: ' , ' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('market-ingest: Invalid configuration');
    expect(result.stderr).toMatch(/INGEST_FLUSH_MS is "often"/);
    expect(result.stderr).toMatch(/KAFKA_BROKERS is " , ": must list at least one value/);
  });

  it('serves /health, /ready and /metrics, and on SIGTERM leaves its group, closes its clients and exits 0', async () => {
    const child = spawn(process.execPath, [tsxCli, main], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        REDIS_URL: services.redisUrl,
        REDIS_KEY_PREFIX: `${prefix}:`,
        DYNAMODB_ENDPOINT: services.dynamoEndpoint,
        DYNAMODB_TABLE_PREFIX: `${prefix}_`,
        KAFKA_BROKERS: services.kafkaBrokers,
        KAFKA_TOPIC_PREFIX: `${prefix}.`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let servicePid: number | undefined;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await eventually(async () => /"url":"(http:\/\/[^"]+)","msg":"market-ingest listening"/.exec(output)?.[1], 30_000);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const ready = await eventually(async () => {
        const response = await fetch(`${url}/ready`);
        return response.ok ? response.json() : undefined;
      }, 30_000, 200);
      expect(ready).toMatchObject({ status: 'ready', checks: { redis: 'ok', dynamodb: 'ok', kafka: 'ok' } });
      expect(await (await fetch(`${url}/metrics`)).text()).toContain('market_ingest_ticks_total');
      servicePid = Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
      process.kill(servicePid, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"stopped"');
    } finally {
      if (servicePid && child.exitCode === null) process.kill(servicePid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});
