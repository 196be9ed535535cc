import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { createLogger } from '@analytica/logger';
import { SIGNATURE_HEADER, signRequest, verifyRequest } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { createSubgraphSource, type ForwardedContext } from './datasource.js';

// Issue 17, acceptance 3: a subgraph answers only the gateway. Every subgraph is built by
// createSubgraphService, which refuses any /graphql request without the gateway's signature; the
// gateway's client (datasource.ts, also used by the subscription executor) signs each request.

const KEY = 'subgraph-access-test-key-0123456789abcdef';
const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String }
  type Thing @key(fields: "id") { id: ID! name: String }
`);
const schema = buildSubgraphSchema({
  typeDefs,
  resolvers: { Query: { hello: () => 'world' }, Thing: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `thing ${ref.id}` }) } },
});
const verifier = {
  verify: () => Promise.reject(new Error('no tokens in this test')),
  close: async () => {},
};

async function startSubgraph(nodeEnv: string) {
  const service = createSubgraphService({
    name: 'things',
    port: 0,
    logger: createLogger('things', 'silent'),
    schema,
    verifier,
    readiness: {},
    context: (base) => base,
    access: { NODE_ENV: nodeEnv, SUBGRAPH_SIGNING_KEY: KEY, SUBGRAPH_SIGNATURE_MAX_AGE_SECONDS: 30 },
  });
  return service.start();
}

const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { id name } } }';
const INTROSPECTION = '{ __schema { queryType { name } types { name } } }';
const bodyOf = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });

let dev: Awaited<ReturnType<typeof startSubgraph>>;
let prod: Awaited<ReturnType<typeof startSubgraph>>;
beforeAll(async () => {
  [dev, prod] = await Promise.all([startSubgraph('development'), startSubgraph('production')]);
});
afterAll(async () => {
  await Promise.all([dev?.stop(), prod?.stop()]);
});

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}
const signed = (body: string, key = KEY, nowMs = Date.now()) => ({ [SIGNATURE_HEADER]: signRequest(key, { method: 'POST', path: '/graphql', body }, nowMs) });

describe('subgraphs answer only requests the gateway signed', () => {
  it.each([
    ['a query', bodyOf('{ hello }')],
    ['_entities', bodyOf(ENTITIES, { r: [{ __typename: 'Thing', id: '1' }] })],
    ['introspection', bodyOf(INTROSPECTION)],
    ['_service (the SDL)', bodyOf('{ _service { sdl } }')],
  ])('refuses %s without a signature: 401 UNAUTHENTICATED, SIGNATURE_MISSING, no data', async (_what, body) => {
    const answer = await post(dev.url, body);
    expect(answer.status).toBe(401);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'SIGNATURE_MISSING' });
    expect(answer.body.errors?.[0]?.message).toMatch(/answers only the gateway/);
  });

  it('refuses introspection by GET without a signature', async () => {
    const response = await fetch(`${dev.url}/graphql?query=${encodeURIComponent(INTROSPECTION)}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(401);
  });

  it('refuses a signature made with another key, one for another body, and a malformed one', async () => {
    const body = bodyOf('{ hello }');
    for (const headers of [signed(body, 'not-the-gateway-key-0123456789abcdef-xyz'), signed(bodyOf('{ __typename }')), { [SIGNATURE_HEADER]: 'v1=deadbeef' }]) {
      const answer = await post(dev.url, body, headers);
      expect(answer.status).toBe(401);
      expect(answer.body.errors?.[0]?.extensions?.reason).toBe('SIGNATURE_INVALID');
    }
  });

  it('refuses a stale (replayed) signature and one from the future: outside the 30 s clock window', async () => {
    const body = bodyOf('{ hello }');
    for (const skewMs of [-5 * 60_000, -31_000, 5 * 60_000]) {
      const answer = await post(dev.url, body, signed(body, KEY, Date.now() + skewMs));
      expect(answer.status, `skew ${skewMs} ms`).toBe(401);
      expect(answer.body.errors?.[0]?.extensions?.reason).toBe('SIGNATURE_EXPIRED');
    }
    // Within the window it passes.
    expect((await post(dev.url, body, signed(body, KEY, Date.now() - 20_000))).body.data).toEqual({ hello: 'world' });
  });

  it('answers a signed request; introspection only outside production', async () => {
    expect((await post(dev.url, bodyOf('{ hello }'), signed(bodyOf('{ hello }')))).body.data).toEqual({ hello: 'world' });
    const devSchema = await post(dev.url, bodyOf(INTROSPECTION), signed(bodyOf(INTROSPECTION)));
    expect(devSchema.body.data?.__schema).toBeTruthy();
    const prodSchema = await post(prod.url, bodyOf(INTROSPECTION), signed(bodyOf(INTROSPECTION)));
    expect(prodSchema.body.data).toBeUndefined();
    expect(prodSchema.body.errors?.[0]?.message).toMatch(/introspection/i);
    // The gateway's own calls (queries and _entities) are not introspection: still served in production.
    expect((await post(prod.url, bodyOf('{ hello }'), signed(bodyOf('{ hello }')))).body.data).toEqual({ hello: 'world' });
  });

  it('passes the health and readiness probes without a signature (they carry no data)', async () => {
    expect((await fetch(`${dev.url}/health`)).status).toBe(200);
    expect((await fetch(`${dev.url}/ready`)).status).toBe(200);
  });
});

describe("the gateway's subgraph client signs every request", () => {
  const run = (source: ReturnType<typeof createSubgraphSource>, query: string, variables?: Record<string, unknown>) =>
    source.process({
      request: { query, variables },
      context: { requestId: 'r-1' },
    } as unknown as GraphQLDataSourceProcessOptions<ForwardedContext>) as Promise<{ data?: Record<string, unknown> }>;

  it('queries and _entities (the executor, merged fetches and subscription events all go through it) pass', async () => {
    const source = createSubgraphSource('things', `${dev.url}/graphql`, 2000, { signingKey: KEY });
    expect((await run(source, '{ hello }')).data).toEqual({ hello: 'world' });
    const entities = await run(source, ENTITIES, { r: [{ __typename: 'Thing', id: '7' }] });
    expect(entities.data).toEqual({ _entities: [{ id: '7', name: 'thing 7' }] });
  });

  it('a gateway with the wrong key gets its fields as SERVICE_UNAVAILABLE naming the subgraph, not UNAUTHENTICATED for the caller', async () => {
    const source = createSubgraphSource('things', `${dev.url}/graphql`, 2000, { signingKey: 'a-wrong-key-for-this-subgraph-0123456789' });
    await expect(run(source, '{ hello }')).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'things' } });
    const unsigned = createSubgraphSource('things', `${dev.url}/graphql`, 2000);
    await expect(run(unsigned, '{ hello }')).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
  });
});

describe('verifyRequest', () => {
  it('covers the method and the path as well as the body', () => {
    const header = signRequest(KEY, { method: 'POST', path: '/graphql', body: '{}' });
    expect(verifyRequest(KEY, { method: 'POST', path: '/graphql', body: '{}', signature: header }, { maxAgeSeconds: 30 })).toBeUndefined();
    expect(verifyRequest(KEY, { method: 'GET', path: '/graphql', body: '{}', signature: header }, { maxAgeSeconds: 30 })).toBe('SIGNATURE_INVALID');
    expect(verifyRequest(KEY, { method: 'POST', path: '/graphql?x=1', body: '{}', signature: header }, { maxAgeSeconds: 30 })).toBe('SIGNATURE_INVALID');
    expect(verifyRequest(KEY, { method: 'POST', path: '/graphql', body: '{}', signature: undefined }, { maxAgeSeconds: 30 })).toBe('SIGNATURE_MISSING');
  });
});
