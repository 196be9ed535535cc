// A stack's processes end with the process that started them (dev/src/processes.ts spawns each
// with an IPC channel; packages/service stops when it closes): a stack whose supervisor is killed
// outright (SIGKILL, a crash, a bench interrupted) leaves no service serving on, orphaned.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually, freePort } from '@analytica/testing';
import { repoRoot } from './processes.js';

const alive = (pid: number) => {
  try {
    // A zombie still answers kill(0): read its state.
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('spawnService', () => {
  it('a service stops when the process that started it is killed', async () => {
    const port = await freePort();
    // The supervisor: starts the bank simulator as the stack does, prints its pid once it is ready, then waits.
    const script = `
      import { entryOf, spawnService, waitUntilReady } from './dev/src/processes.ts';
      const bank = spawnService('bank-simulator', entryOf('bank-simulator'), ${port}, { LOG_LEVEL: 'warn', METRICS_PORT: '${await freePort()}' });
      await waitUntilReady(bank);
      console.log('ready ' + bank.child.pid);
      setInterval(() => {}, 1000);
    `;
    const supervisor = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    supervisor.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const pid = await eventually(async () => Number(/ready (\d+)/.exec(output)?.[1]) || undefined, 60_000, 100);
    expect(alive(pid)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    try {
      supervisor.kill('SIGKILL');
      // It shuts down as on SIGTERM: closes its server and exits.
      await eventually(async () => (alive(pid) ? undefined : true), 15_000, 100);
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      // Should it still run (the test failed), it must not outlive the test.
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }, 90_000);
});
