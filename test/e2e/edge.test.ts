// The edge in stack mode (issue 17, acceptance 2 and 3): NGINX terminating TLS with the stack's
// local CA in front of two gateways, HTTP/2, subscriptions over wss://, retry on the other gateway
// when one dies; and every subgraph of the running stack refusing what the gateway did not sign.
import http2 from 'node:http2';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenIssuer } from '@analytica/auth';
import { dropSchema, eventually, freePort, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { localSecrets } from '../../dev/src/secrets.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';

const run = uniqueName('edge');
const dataDir = path.join(repoRoot, '.data/test-secrets');
let stack: RunningStack;
let ca: Buffer;
let agent: https.Agent;
let token: string;

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  stack = await startStack({
    ports,
    extraGatewayPorts: [await freePort()],
    edgePort: await freePort(),
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir,
    env: {
      LOG_LEVEL: 'info',
      ...isolatedRunEnv(run),
      FEED_SYMBOLS: 'BTC-USD',
      FEED_ALWAYS_OPEN: 'true',
      FEED_TICKS_PER_SYMBOL: '4',
      RATE_LIMIT_IP_PER_MINUTE: '100000',
      RATE_LIMIT_USER_PER_MINUTE: '100000',
    },
  });
  ca = readFileSync(stack.edge!.caFile);
  agent = new https.Agent({ ca, keepAlive: true, maxSockets: 16 });
  const issuer = createTokenIssuer((await localSecrets(dataDir)).jwtPrivateKey, { issuer: 'analytica', audience: 'analytica-api', ttlSeconds: 900 });
  token = issuer.issue({ id: crypto.randomUUID(), role: 'USER', sessionId: crypto.randomUUID() }, crypto.randomUUID());
}, 240_000);

afterAll(async () => {
  agent?.destroy();
  await stack?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** One request over HTTPS (HTTP/1.1) as a signed-in user, trusting only the stack's CA. */
function request(method: 'GET' | 'POST', url: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...options.headers };
    const req = https.request(url, { method, agent, headers, timeout: 20_000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Answer['body'] });
        } catch {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: { errors: [{ message: text.slice(0, 200) }] } });
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

const QUOTE = '{ quote(symbol: "BTC-USD") { symbol last } }';
/** A GraphQL query over GET: idempotent, so NGINX may retry it on the other gateway. */
const getQuery = (query: string) => request('GET', `${stack.edge!.url}?query=${encodeURIComponent(query)}`, { headers: { 'apollo-require-preflight': 'true' } });

describe('the HTTPS edge (NGINX in stack mode)', () => {
  it('serves a query over https:// to the gateway, with the request id passed on and answered', async () => {
    const answer = await request('POST', stack.edge!.url, { body: JSON.stringify({ query: QUOTE }), headers: { 'x-request-id': 'edge-test-1' } });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ quote: { symbol: 'BTC-USD' } });
    expect(answer.headers['x-request-id']).toBe('edge-test-1');
    expect(answer.headers['strict-transport-security']).toMatch(/max-age=/);
    // No id from the caller: the edge makes one, and the gateway answers with it.
    const fresh = await getQuery(QUOTE);
    expect(fresh.status).toBe(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses a client that does not trust the local CA, and speaks HTTP/2 to one that asks', async () => {
    const { port } = new URL(stack.edge!.url);
    await expect(request('GET', `https://127.0.0.1:${port}/health`, {}).then(() => undefined)).resolves.toBeUndefined(); // with the CA: fine
    const untrusted = new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost' }, () => resolve('connected'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(await untrusted).toMatch(/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY/);
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca });
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/graphql', 'content-type': 'application/json', authorization: `Bearer ${token}` });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end(JSON.stringify({ query: QUOTE }));
      });
      expect(session.alpnProtocol).toBe('h2');
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ data: { quote: { symbol: 'BTC-USD' } } });
    } finally {
      session.close();
    }
  });

  it('refuses every request to every subgraph that the gateway did not sign: a query, _entities and introspection get 401', async () => {
    const bodies = ['{ __typename }', 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', '{ __schema { types { name } } }', '{ _service { sdl } }'];
    for (const name of SUBGRAPHS) {
      for (const query of bodies) {
        const response = await fetch(`${stack.services.get(name)!.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables: { r: [{ __typename: 'User', id: '1' }] } }),
        });
        const body = (await response.json()) as Answer['body'];
        expect(response.status, `${name}: ${query}`).toBe(401);
        expect(body.errors?.[0]?.extensions, `${name}: ${query}`).toEqual({ code: 'UNAUTHENTICATED', reason: 'SIGNATURE_MISSING' });
        expect(body.data).toBeUndefined();
      }
    }
  });

  describe('subscriptions over wss://', () => {
    /** A WebSocket that trusts the stack's CA, for graphql-ws. */
    const TrustingWebSocket = class extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { ca });
      }
    };
    function subscriber() {
      const ticks: number[] = [];
      const errors: unknown[] = [];
      let connections = 0;
      const client: WsClient = createWsClient({
        url: stack.edge!.wsUrl,
        webSocketImpl: TrustingWebSocket,
        lazy: false,
        retryAttempts: 20,
        retryWait: () => new Promise((r) => setTimeout(r, 300)),
        shouldRetry: () => true,
        connectionParams: { authorization: `Bearer ${token}` },
        on: { connected: () => void (connections += 1) },
      });
      client.subscribe(
        { query: 'subscription { quote(symbol: "BTC-USD") { last time marketState } }' },
        {
          next: (r) => {
            if (r.errors) errors.push(r.errors);
            else ticks.push(Date.now());
          },
          error: (e) => void errors.push(e),
          complete: () => {},
        },
      );
      return { ticks, errors, connections: () => connections, close: () => client.dispose() };
    }

    it('receives ticks', async () => {
      const one = subscriber();
      try {
        await eventually(async () => (one.ticks.length >= 3 ? true : undefined), 30_000);
        expect(one.errors).toEqual([]);
      } finally {
        await one.close();
      }
    });

    it('killing one of the two gateways under a steady query load loses no idempotent query, and its subscribers reconnect to the other', async () => {
      const subscribers = Array.from({ length: 6 }, () => subscriber());
      try {
        await eventually(async () => (subscribers.every((s) => s.ticks.length >= 1) ? true : undefined), 30_000);
        // Both gateways hold subscribers (NGINX takes turns).
        const connected = await Promise.all(stack.gatewayMetricsUrls.map((url) => gauge(url, 'subscription_connections')));
        expect(
          connected.every((n) => n >= 1),
          `connections per gateway: ${connected.join(', ')}`,
        ).toBe(true);

        // A steady load of GET queries from 4 callers, before, during and after the kill.
        const outcomes: { ok: boolean; detail: string }[] = [];
        let loading = true;
        const callers = Array.from({ length: 4 }, async () => {
          while (loading) {
            try {
              const answer = await getQuery(QUOTE);
              const ok = answer.status === 200 && (answer.body.data?.quote as { symbol?: string } | undefined)?.symbol === 'BTC-USD' && !answer.body.errors;
              outcomes.push({ ok, detail: ok ? '' : `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}` });
            } catch (error) {
              outcomes.push({ ok: false, detail: String(error) });
            }
          }
        });
        await new Promise((r) => setTimeout(r, 2000));
        const killedAt = Date.now();
        const before = outcomes.length;
        stack.gateways[0]!.child.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 6000));
        loading = false;
        await Promise.all(callers);
        const failed = outcomes.filter((o) => !o.ok);
        expect(failed.map((o) => o.detail)).toEqual([]);
        expect(before).toBeGreaterThan(5);
        expect(outcomes.length - before).toBeGreaterThan(10);

        // Every subscriber ticks again after the kill: those of the dead gateway reconnected to the other.
        await eventually(async () => (subscribers.every((s) => s.ticks.some((at) => at > killedAt + 500)) ? true : undefined), 30_000);
        expect(subscribers.some((s) => s.connections() >= 2)).toBe(true);
        expect(await gauge(stack.gatewayMetricsUrls[1]!, 'subscription_connections')).toBeGreaterThanOrEqual(subscribers.length);
      } finally {
        await Promise.all(subscribers.map((s) => s.close()));
      }
    });
  });
});

async function gauge(metricsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
