// The gateway's edge for browsers (issue 15): CORS and the Origin check on HTTP, SSE and WebSocket,
// and the bundled GraphQL IDE, loaded in a real Chromium that may reach nothing but 127.0.0.1.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { chromium } from 'playwright-core';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { dropSchema, freePort, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { buildUserSchema, parseUserEnv, startUserService } from '@analytica/user-subgraph';
import { ORIGIN_REFUSAL } from './cors.js';
import { parseGatewayEnv, startGateway } from './index.js';

const APP = 'http://app.test:5173';
const OTHER = 'https://evil.example';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const schemaName = uniqueName('gw_edge');
const redisPrefix = `${uniqueName('gw_edge')}:`;
let dir: string;
let user: Awaited<ReturnType<typeof startUserService>>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let ideOff: Awaited<ReturnType<typeof startGateway>>;
let endpoint: string;
const email = 'edge@example.com';
const password = 'long enough password';

const gatewayEnv = (extra: Record<string, string>) =>
  parseGatewayEnv({
    SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
    LOG_LEVEL: 'silent',
    SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
    SUPERGRAPH_WATCH: 'false',
    JWKS_URL: `${user.url}/.well-known/jwks.json`,
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    ...extra,
  });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-edge-'));
  user = await startUserService(
    parseUserEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schemaName,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
    }),
  );
  const composed = compose([{ name: 'user', url: `${user.url}/graphql`, sdl: printSdl(await buildUserSchema()) }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  gateway = await startGateway(gatewayEnv({ PORT: String(await freePort()), GATEWAY_CORS_ORIGINS: APP }));
  ideOff = await startGateway(gatewayEnv({ PORT: String(await freePort()), GATEWAY_IDE: 'false' }));
  endpoint = `${gateway.url}/graphql`;
  const registered = await gql(endpoint, `mutation { register(input: { email: "${email}", password: "${password}", displayName: "Edge" }) { accessToken } }`);
  expect(registered.errors).toBeUndefined();
});

afterAll(async () => {
  await gateway?.stop();
  await ideOff?.stop();
  await user?.stop();
  await dropSchema(schemaName);
  await rm(dir, { recursive: true, force: true });
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const corsHeaders = (response: Response) => [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
const refusal = { errors: [{ message: ORIGIN_REFUSAL.message, extensions: { code: 'FORBIDDEN' } }] };

describe('CORS', () => {
  it.each([
    ['a GraphQL request', 'POST', 'content-type, authorization'],
    ['an event stream', 'POST', 'content-type, authorization, accept, last-event-id'],
  ])('answers the preflight of %s from a listed origin with 204 and its headers', async (_what, method, requested) => {
    const response = await fetch(endpoint, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': method, 'access-control-request-headers': requested },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, OPTIONS');
    const allowed = response.headers.get('access-control-allow-headers')!.split(', ');
    for (const header of requested.split(', ')) expect(allowed).toContain(header);
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('serves a listed origin with credentials, and its errors are readable too', async () => {
    const ok = await fetch(endpoint, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-expose-headers')).toContain('retry-after');
    expect(ok.headers.get('vary')).toMatch(/\bOrigin\b/);
    const refused = await fetch(endpoint, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('gives an unlisted origin no Access-Control-* header: its preflight and its requests are refused 403 FORBIDDEN', async () => {
    const preflight = await fetch(endpoint, { method: 'OPTIONS', headers: { origin: OTHER, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(corsHeaders(preflight)).toEqual([]);
    const request = await fetch(endpoint, { method: 'POST', headers: { origin: OTHER, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(request.status).toBe(403);
    expect(corsHeaders(request)).toEqual([]);
    expect(await request.json()).toEqual(refusal);
    // A look-alike of a listed origin is another origin.
    const lookAlike = await fetch(endpoint, { method: 'POST', headers: { origin: `${APP}.evil.example`, 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(lookAlike.status).toBe(403);
  });

  it('refuses an event stream from an unlisted origin the same way, and lets a listed one through to authentication', async () => {
    const stream = (origin: string) =>
      fetch(endpoint, {
        method: 'POST',
        headers: { origin, accept: 'text/event-stream', 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
        body: JSON.stringify({ query: 'subscription { __typename }' }),
      });
    const refused = await stream(OTHER);
    expect(refused.status).toBe(403);
    expect(corsHeaders(refused)).toEqual([]);
    expect(await refused.json()).toEqual(refusal);
    const listed = await stream(APP);
    expect(listed.status).toBe(401);
    expect(listed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(((await listed.json()) as typeof refusal).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('keeps serving clients that send no Origin, and keeps the CSRF protection for them', async () => {
    const plain = await gql(endpoint, '{ __typename }');
    expect(plain.status).toBe(200);
    // A "simple" request (no preflight in a browser) is still refused by the CSRF prevention.
    const simple = await fetch(`${endpoint}?query=${encodeURIComponent('{ __typename }')}`);
    expect(simple.status).toBe(400);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    const textPlain = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' });
    expect(textPlain.status).toBe(400);
  });

  it('checks the Origin of a WebSocket upgrade against the same list, with the same refusal', async () => {
    const open = (origin?: string) =>
      new Promise<{ opened: boolean; status?: number; body?: string }>((resolve, reject) => {
        const socket = new WebSocket(endpoint.replace(/^http/, 'ws'), 'graphql-transport-ws', origin ? { origin } : {});
        socket.on('open', () => {
          socket.close();
          resolve({ opened: true });
        });
        socket.on('unexpected-response', (_req, res: IncomingMessage) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ opened: false, status: res.statusCode, body }));
        });
        socket.on('error', (error) => reject(error));
      });
    expect(await open(APP)).toEqual({ opened: true });
    expect(await open()).toEqual({ opened: true });
    expect(await open(gateway.url)).toEqual({ opened: true });
    const refused = await open(OTHER);
    expect(refused.opened).toBe(false);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body!)).toEqual(refusal);
  });
});

describe('GraphQL IDE', () => {
  it('is off when GATEWAY_IDE is false: 404, and no landing page of Apollo either', async () => {
    const response = await fetch(`${ideOff.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as typeof refusal).errors[0]!.extensions.code).toBe('NOT_FOUND');
  });

  it('serves a page that loads only from the gateway', async () => {
    const response = await fetch(endpoint, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).not.toMatch(/https?:/);
  }, 120_000);

  it('loads in Chromium with every other host cut off, signs in from its form and runs a query', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      const problems: string[] = [];
      await page.route('**/*', (route) => {
        const { hostname, protocol } = new URL(route.request().url());
        if (['data:', 'blob:'].includes(protocol) || hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
        elsewhere.push(route.request().url());
        return route.abort('internetdisconnected');
      });
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(endpoint, { waitUntil: 'load' });
      await page.locator('.graphiql-container').waitFor({ timeout: 60_000 });

      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('status').filter({ hasText: 'Signed in' }).waitFor({ timeout: 15_000 });

      // Replace the query (Monaco: select all, then type over it).
      const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText('query Me { me { email displayName } }');
      await page.keyboard.press('ControlOrMeta+Enter');
      // The response editor's lines (the sign-in form shares the pane, in its footer).
      const response = page.locator('.graphiql-response .monaco-editor .view-lines');
      await response.filter({ hasText: 'displayName' }).waitFor({ timeout: 15_000 });
      // Monaco renders spaces as no-break spaces.
      expect((await response.innerText()).replace(/\s+/g, ' ')).toContain('"me": { "email": "edge@example.com", "displayName": "Edge" }');
      expect(elsewhere).toEqual([]);
      expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
