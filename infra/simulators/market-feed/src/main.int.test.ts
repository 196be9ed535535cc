import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually, services, uniqueName } from '@analytica/testing';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

describe('market feed process', () => {
  it('exits with a message naming a malformed variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, FEED_MODE: 'dream', FEED_TICKS_PER_SECOND: '-5' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('market-feed: Invalid configuration');
    expect(result.stderr).toMatch(/FEED_MODE is "dream"/);
    expect(result.stderr).toMatch(/FEED_TICKS_PER_SECOND is "-5"/);
  });

  it('serves /health, /ready and /metrics, and on SIGTERM publishes what it holds and exits 0', async () => {
    const child = spawn(process.execPath, [tsxCli, main], {
      env: { PATH: process.env.PATH, PORT: '0', KAFKA_BROKERS: services.kafkaBrokers, KAFKA_TOPIC_PREFIX: `${uniqueName('feed_main')}.`, FEED_ALWAYS_OPEN: 'true', FEED_SYMBOLS: 'AAPL' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let servicePid: number | undefined;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await eventually(async () => /"url":"(http:\/\/[^"]+)","msg":"market-feed listening"/.exec(output)?.[1], 30_000);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await eventually(async () => ((await fetch(`${url}/ready`)).ok ? true : undefined), 20_000, 200);
      await eventually(async () => (/^feed_ticks_published_total\{[^}]*\} [1-9]/m.test(await (await fetch(`${url}/metrics`)).text()) ? true : undefined), 20_000, 200);
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
