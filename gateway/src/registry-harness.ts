// Test support for the registry-fed gateway: small stand-in subgraphs and a gateway pointed at a registry.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, graphql } from 'graphql';
import { services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { parseGatewayEnv, startGateway } from './index.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable"])';

/**
 * A subgraph without entities, so that the gateway sends it plain root-field queries: graphql-js
 * answers them from a schema that already has every field any version of its SDL declares.
 */
export async function startStubSubgraph(fields: Record<string, (args: Record<string, unknown>) => unknown>, sdlFields: string) {
  const schema = buildSchema(`type Query { ${sdlFields} }`);
  const rootValue = Object.fromEntries(Object.entries(fields).map(([name, fn]) => [name, (args: Record<string, unknown>) => fn(args)]));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { query, variables } = JSON.parse(body || '{}') as { query: string; variables?: Record<string, unknown> };
      void graphql({ schema, source: query, variableValues: variables, rootValue }).then((result) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(result));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Federation SDL for a stub subgraph with these Query fields. */
export const stubSdl = (queryFields: string) => `${LINK}\ntype Query {\n  ${queryFields}\n}\n`;

/** Two stub subgraphs: alpha (hello, world, wait) and beta (count). */
export async function startStubs() {
  const alpha = await startStubSubgraph(
    { hello: () => 'hi', world: () => 'earth', wait: async ({ ms }) => new Promise((r) => setTimeout(() => r(ms), Number(ms))) },
    'hello: String world: String wait(ms: Int!): Int',
  );
  const beta = await startStubSubgraph({ count: ({ n }) => Number(n ?? 1) * 2 }, 'count(n: Int): Int');
  return { alpha, beta, close: () => Promise.all([alpha.close(), beta.close()]) };
}

/** The gateway process's code, in-process, fed by the registry at `registryUrl`. */
export function startRegistryGateway(registryUrl: string, token: string, extra: Record<string, string> = {}) {
  return startGateway(
    parseGatewayEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PORT: '0',
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${uniqueName('gw_registry')}:`,
      SUPERGRAPH_URL: `${registryUrl}/api/supergraph`,
      SUPERGRAPH_POLL_SECONDS: '1',
      REGISTRY_TOKEN: token,
      RATE_LIMIT_IP_PER_MINUTE: '100000000',
      RATE_LIMIT_USER_PER_MINUTE: '100000000',
      ...extra,
    }),
  );
}

/** Sends `query` in `workers` loops until stopped; keeps every outcome. */
export function steadyLoad(url: string, query: string, workers = 4) {
  const outcomes: { ok: boolean; detail: string }[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
        const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
        const ok = response.status === 200 && !body.errors;
        outcomes.push({ ok, detail: ok ? '' : `${response.status} ${JSON.stringify(body).slice(0, 300)}` });
      } catch (error) {
        outcomes.push({ ok: false, detail: String(error) });
      }
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}
