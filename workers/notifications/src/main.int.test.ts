import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('notifications worker start-up', () => {
  it('exits with a message naming a missing or malformed variable, without printing secrets', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, SMTP_URL: 'http://mail', UNSUBSCRIBE_SECRET: 'short-secret' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('notifications-worker: Invalid configuration');
    expect(result.stderr).toMatch(/SMTP_URL is "http:\/\/mail": must be a URL starting with smtp:\/\/ or smtps:\/\//);
    expect(result.stderr).toMatch(/UNSUBSCRIBE_SECRET is "\*\*\*": must be at least 32 characters/);
    expect(result.stderr).not.toContain('short-secret');
  });
});
