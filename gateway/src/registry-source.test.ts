import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@analytica/config';
import { createLogger } from '@analytica/logger';
import { parseGatewayEnv } from './environment.js';
import { supergraphFromRegistry } from './registry-source.js';

/** The gateway's subgraph signing key (required; not what these tests are about). */
const SIGNED = { SUBGRAPH_SIGNING_KEY: 'registry-source-test-signing-key-0123456789' };

const logger = createLogger('test', 'silent');
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** A registry stand-in: answers with `state.sdl` and its ETag, 304 on a match; records each request's If-None-Match. */
async function fakeRegistry(state: { sdl: string; etag: string; status?: number }) {
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers['if-none-match'] as string | undefined);
    if (state.status) return void res.writeHead(state.status).end('down');
    if (req.headers['if-none-match'] === state.etag) return void res.writeHead(304).end();
    res.writeHead(200, { etag: state.etag, 'x-schema-version': '7' }).end(state.sdl);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/supergraph`, seen };
}

const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(check()).toBe(true);
};

describe('supergraphFromRegistry', () => {
  it('polls with the ETag, hands a changed graph to update once, and does not retry one that does not load', async () => {
    const state = { sdl: 'v1', etag: '"1"' };
    const registry = await fakeRegistry(state);
    const updates: string[] = [];
    // The polling is under test here, not loading: every answer "loads" at start.
    const manager = supergraphFromRegistry({ url: registry.url, pollSeconds: 0.05 as number, logger, loads: () => undefined });
    const { supergraphSdl, cleanup } = (await manager.initialize({
      update: (sdl: string) => {
        updates.push(sdl);
        if (sdl === 'garbage') throw new Error('does not load');
      },
      healthCheck: async () => undefined,
      getDataSource: () => undefined as never,
    }))!;
    closers.push(() => void cleanup?.());
    expect(supergraphSdl).toBe('v1');
    await waitFor(() => registry.seen.length >= 3);
    expect(registry.seen[0]).toBeUndefined();
    expect(registry.seen.slice(1).every((tag) => tag === '"1"')).toBe(true);
    expect(updates).toEqual([]);

    Object.assign(state, { sdl: 'garbage', etag: '"2"' });
    await waitFor(() => updates.length === 1);
    const polls = registry.seen.length;
    await waitFor(() => registry.seen.length >= polls + 3);
    expect(updates).toEqual(['garbage']); // refused once, not handed over again
    // The ETag of the last good graph is still the one sent: the registry keeps answering the new one.
    expect(registry.seen.at(-1)).toBe('"1"');

    Object.assign(state, { sdl: 'v3', etag: '"3"' });
    await waitFor(() => updates.length === 2);
    expect(updates).toEqual(['garbage', 'v3']);
    await waitFor(() => registry.seen.at(-1) === '"3"');
  });

  it('serves the fallback file when the registry is down at start, then swaps when it answers', async () => {
    const state = { sdl: 'from registry', etag: '"9"', status: 503 as number | undefined };
    const registry = await fakeRegistry(state);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'registry-source-'));
    await writeFile(path.join(dir, 'supergraph.graphql'), 'from file');
    const updates: string[] = [];
    const manager = supergraphFromRegistry({ url: registry.url, pollSeconds: 0.05, logger, fallbackPath: path.join(dir, 'supergraph.graphql') });
    const { supergraphSdl, cleanup } = (await manager.initialize({
      update: (sdl: string) => void updates.push(sdl),
      healthCheck: async () => undefined,
      getDataSource: () => undefined as never,
    }))!;
    closers.push(() => void cleanup?.());
    expect(supergraphSdl).toBe('from file');
    await waitFor(() => registry.seen.length >= 3);
    expect(updates).toEqual([]);
    state.status = undefined;
    await waitFor(() => updates.length === 1);
    expect(updates).toEqual(['from registry']);
  });

  it("serves the fallback file when the registry's first answer does not load as a supergraph", async () => {
    const registry = await fakeRegistry({ sdl: 'type Query { not: String }', etag: '"bad"' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'registry-source-'));
    await writeFile(path.join(dir, 'supergraph.graphql'), 'from file');
    const manager = supergraphFromRegistry({ url: registry.url, pollSeconds: 60, logger, fallbackPath: path.join(dir, 'supergraph.graphql') });
    const { supergraphSdl, cleanup } = (await manager.initialize({ update: () => undefined, healthCheck: async () => undefined, getDataSource: () => undefined as never }))!;
    closers.push(() => void cleanup?.());
    expect(supergraphSdl).toBe('from file');
  });

  it('without a fallback, a registry that is down at start is an error naming it', async () => {
    const registry = await fakeRegistry({ sdl: '', etag: '"x"', status: 500 });
    const manager = supergraphFromRegistry({ url: registry.url, pollSeconds: 1, logger });
    await expect(manager.initialize({ update: () => undefined, healthCheck: async () => undefined, getDataSource: () => undefined as never })).rejects.toThrow(
      new RegExp(`registry at ${registry.url.replace(/[.?]/g, '\\$&')} did not serve a supergraph`),
    );
  });

  it('the gateway refuses a SUPERGRAPH_URL that is not http(s), naming it', () => {
    expect(() => parseGatewayEnv({ ...SIGNED, SUPERGRAPH_URL: 'ftp://registry/api/supergraph' })).toThrow(ConfigError);
    expect(() => parseGatewayEnv({ ...SIGNED, SUPERGRAPH_URL: 'ftp://registry/api/supergraph' })).toThrow(/SUPERGRAPH_URL is "ftp:/);
    expect(parseGatewayEnv({ ...SIGNED, SUPERGRAPH_URL: 'http://127.0.0.1:4030/api/supergraph', REGISTRY_TOKEN: 'reg_token' }).SUPERGRAPH_POLL_SECONDS).toBe(10);
  });

  it('the gateway refuses a registry URL without a token, which would leave it on its fallback file for good', () => {
    expect(() => parseGatewayEnv({ ...SIGNED, SUPERGRAPH_URL: 'http://127.0.0.1:4030/api/supergraph' })).toThrow(/REGISTRY_TOKEN is missing: SUPERGRAPH_URL is set/);
    expect(() => parseGatewayEnv({ ...SIGNED, USAGE_REPORT_URL: 'http://127.0.0.1:4030/api/usage' })).toThrow(/REGISTRY_TOKEN is missing: USAGE_REPORT_URL is set/);
  });
});
