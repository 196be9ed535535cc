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
