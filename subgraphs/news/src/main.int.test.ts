import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { eventually, services, uniqueName } from '@analytica/testing';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
// The tsx command line, as `npm start` runs it: it relays signals to the service process.
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const prefix = uniqueName('news_main');

afterAll(async () => {
  const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
  await deleteTablesWithPrefix(dynamo, prefix);
  dynamo.close();
});

describe('news service process', () => {
  it('exits with a message naming a malformed variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, PORT: 'eighty', DYNAMODB_ENDPOINT: 'not a url' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('news: Invalid configuration');
    expect(result.stderr).toMatch(/PORT is "eighty"/);
    expect(result.stderr).toMatch(/DYNAMODB_ENDPOINT is "not a url"/);
  });

  it('serves /health, /ready and /metrics, and on SIGTERM to the service process drains, closes its client and exits 0', async () => {
    const child = spawn(process.execPath, [tsxCli, main], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        DYNAMODB_ENDPOINT: services.dynamoEndpoint,
        DYNAMODB_TABLE_PREFIX: `${prefix}_`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let servicePid: number | undefined;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await eventually(async () => /"url":"(http:\/\/[^"]+)","msg":"news listening"/.exec(output)?.[1], 30_000);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(await (await fetch(`${url}/ready`)).json()).toMatchObject({ status: 'ready', checks: { dynamodb: 'ok' } });
      expect(await (await fetch(`${url}/metrics`)).text()).toContain('http_request_duration_seconds');
      // Signal the service itself, as a container runtime or a process-group kill does, not only the tsx wrapper.
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
