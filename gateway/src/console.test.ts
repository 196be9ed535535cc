import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@analytica/config';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { CONSOLE_PAGE_CSP, consoleRoutes } from './console.js';
import { parseGatewayEnv } from './environment.js';

const parse = (source: Record<string, string>) => parseGatewayEnv({ SUBGRAPH_SIGNING_KEY: 'k'.repeat(32), ...source });
let built: string;
let empty: string;

beforeAll(async () => {
  built = await mkdtemp(path.join(tmpdir(), 'console-dist-'));
  await writeFile(path.join(built, 'index.html'), '<!doctype html>');
  await mkdir(path.join(built, 'assets'));
  await writeFile(path.join(built, 'assets', 'index-abc123.js'), 'console.log(1)');
  empty = await mkdtemp(path.join(tmpdir(), 'console-empty-'));
});
afterAll(async () => {
  await rm(built, { recursive: true, force: true });
  await rm(empty, { recursive: true, force: true });
});

describe('GATEWAY_CONSOLE_DIR', () => {
  it('is optional, and taken when it holds a built console', () => {
    expect(parse({}).GATEWAY_CONSOLE_DIR).toBeUndefined();
    expect(parse({ GATEWAY_CONSOLE_DIR: built }).GATEWAY_CONSOLE_DIR).toBe(built);
  });

  it('stops the start, naming the variable, when the folder is missing or holds no index.html', () => {
    expect(() => parse({ GATEWAY_CONSOLE_DIR: path.join(empty, 'nowhere') })).toThrow(ConfigError);
    expect(() => parse({ GATEWAY_CONSOLE_DIR: path.join(empty, 'nowhere') })).toThrow(/GATEWAY_CONSOLE_DIR: ".*nowhere" is not a folder/);
    expect(() => parse({ GATEWAY_CONSOLE_DIR: empty })).toThrow(/GATEWAY_CONSOLE_DIR: ".*" has no index.html/);
  });

  it('serves the console under a policy that allows no inline script or style and no other origin', () => {
    expect(CONSOLE_PAGE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_PAGE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });
});

describe('the console routes', () => {
  it('serve the page for every console path, hashed assets with a long cache, and 404 for an unknown asset', async () => {
    const app = express();
    consoleRoutes(app, { dir: built });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const bare = await fetch(`${origin}/console`, { redirect: 'manual' });
      expect([bare.status, bare.headers.get('location')]).toEqual([301, '/console/']);
      for (const page of ['/console/', '/console/users', '/console/logs?requestId=abc']) {
        const response = await fetch(origin + page);
        expect(response.status, page).toBe(200);
        expect(response.headers.get('content-security-policy'), page).toBe(CONSOLE_PAGE_CSP);
        expect(await response.text(), page).toBe('<!doctype html>');
      }
      const asset = await fetch(`${origin}/console/assets/index-abc123.js`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect(asset.headers.get('content-security-policy')).toBe(CONSOLE_PAGE_CSP);
      const missing = await fetch(`${origin}/console/assets/index-old.js`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
