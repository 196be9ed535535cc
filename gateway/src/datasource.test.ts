import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, parse, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubgraphSource } from './datasource.js';

// A stand-in subgraph whose answer each test picks with the `x-answer` header it sends.
let server: http.Server;
let url: string;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push(req.headers);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(value));
      };
      switch (req.headers['x-answer']) {
        case 'hang':
          return; // never answers
        case 'fields': {
          // Each root field answers with its response key and the variables it was sent.
          const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
          const operation = parse(query).definitions[0] as OperationDefinitionNode;
          const data: Record<string, unknown> = {};
          for (const field of operation.selectionSet.selections as FieldNode[])
            data[field.alias?.value ?? field.name.value] = { key: field.alias?.value ?? field.name.value, variables };
          return json(200, { data });
        }
        case 'slow':
          // Answers after 100 ms with the token it was called with: concurrent callers overlap.
          return void setTimeout(() => json(200, { data: { caller: req.headers.authorization ?? null, call: seen.length } }), 100);
        case 'refusal':
          return json(400, { errors: [{ message: 'Variable "$symbol" got an invalid value.', extensions: { code: 'BAD_USER_INPUT', field: 'symbol' } }] });
        case 'revoked':
          res.writeHead(401, { 'content-type': 'text/plain' });
          return res.end('no');
        case 'html':
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end('<html>proxy error</html>');
        default:
          return json(200, { data: { echo: JSON.parse(body) } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function call(answer: string | undefined, options: { url?: string; timeoutMs?: number; context?: Record<string, string> } = {}) {
  const source = createSubgraphSource('news', options.url ?? url, options.timeoutMs ?? 2000);
  return source.process({
    kind: 'incoming operation',
    request: {
      query: 'query($id: ID!) { article(id: $id) { id } }',
      variables: { id: 'a1' },
      operationName: 'Article',
      http: answer ? ({ headers: new Map([['x-answer', answer]]) } as never) : undefined,
    },
    context: options.context ?? {},
  } as never);
}

describe('the gateway client of a subgraph', () => {
  it("posts the operation as JSON and forwards the caller's token, request id and address", async () => {
    const response = await call(undefined, { context: { authorization: 'Bearer t0k', requestId: 'req-1', clientIp: '203.0.113.9' } });
    expect(response.data).toEqual({ echo: { query: 'query($id: ID!) { article(id: $id) { id } }', variables: { id: 'a1' }, operationName: 'Article' } });
    expect(seen.at(-1)).toMatchObject({ authorization: 'Bearer t0k', 'x-request-id': 'req-1', 'x-forwarded-for': '203.0.113.9', 'content-type': 'application/json' });
  });

  it('keeps one connection alive across calls', async () => {
    const source = createSubgraphSource('news', url, 2000);
    const sockets = new Set<unknown>();
    const count = (socket: unknown) => sockets.add(socket);
    server.on('connection', count);
    for (let i = 0; i < 5; i++) {
      await source.process({ kind: 'incoming operation', request: { query: '{ a }' }, context: {} } as never);
    }
    server.off('connection', count);
    expect(sockets.size).toBe(1);
  });

  it('passes a refusal sent with an HTTP error status on with its code and field', async () => {
    const error = await call('refusal').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error).toMatchObject({ message: 'Variable "$symbol" got an invalid value.', extensions: { code: 'BAD_USER_INPUT', field: 'symbol' } });
  });

  it('turns a 401 without a GraphQL body into UNAUTHENTICATED', async () => {
    await expect(call('revoked')).rejects.toMatchObject({ message: '401: Unauthorized', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('names the service when it does not answer in time', async () => {
    await expect(call('hang', { timeoutMs: 200 })).rejects.toMatchObject({
      message: 'The news service did not answer within 200 ms; its fields are missing from this response.',
      extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'news' },
    });
  });

  it('gives up the connection of a call that timed out, so that a hung subgraph does not hold the pool', async () => {
    const closed = new Promise<void>((resolve) => server.once('request', (req: http.IncomingMessage) => req.socket.once('close', () => resolve())));
    const startedAt = performance.now();
    await expect(call('hang', { timeoutMs: 200 })).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    await closed;
    // Closed by the gateway at its time limit, not by the server's own timeouts minutes later.
    expect(performance.now() - startedAt).toBeLessThan(2000);
  });

  it('names the service when nothing listens at its address', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(call(undefined, { url: `http://127.0.0.1:${port}/graphql` })).rejects.toMatchObject({
      message: 'The news service is unavailable; its fields are missing from this response.',
      extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'news' },
    });
  });

  it('refuses a success status whose body is not a GraphQL result', async () => {
    await expect(call('html')).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'news' } });
  });

  describe('identical queries in flight', () => {
    const slow = (query: string) => ({ query, http: { headers: new Map([['x-answer', 'slow']]) } });
    const process = (source: ReturnType<typeof createSubgraphSource>, query: string, authorization?: string, requestId = 'r') =>
      source.process({ kind: 'incoming operation', request: slow(query), context: { authorization, requestId } } as never);

    it('share one subgraph call when the same caller sends them at once, each getting its own copy', async () => {
      const shared: number[] = [];
      const source = createSubgraphSource('news', url, 2000, { onShared: () => shared.push(1) });
      const before = seen.length;
      const answers = await Promise.all([process(source, 'query { me { id } }', 'Bearer alice', 'r1'), process(source, 'query { me { id } }', 'Bearer alice', 'r2')]);
      expect(seen.length - before).toBe(1);
      expect(shared).toHaveLength(1);
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[0]).not.toBe(answers[1]); // the executor merges into what it gets: never one object for two requests
      expect(answers[0]?.data).toMatchObject({ caller: 'Bearer alice' });
    });

    it('are never shared between two tokens: each user gets the answer made for them', async () => {
      const source = createSubgraphSource('news', url, 2000);
      const before = seen.length;
      const [alice, bob] = await Promise.all([process(source, 'query { me { id } }', 'Bearer alice'), process(source, 'query { me { id } }', 'Bearer bob')]);
      expect(seen.length - before).toBe(2);
      expect(alice?.data).toMatchObject({ caller: 'Bearer alice' });
      expect(bob?.data).toMatchObject({ caller: 'Bearer bob' });
    });

    it('never share a mutation, and share nothing when the setting is off', async () => {
      const on = createSubgraphSource('news', url, 2000);
      const off = createSubgraphSource('news', url, 2000, { deduplicate: false });
      let before = seen.length;
      await Promise.all([process(on, 'mutation { pay }', 'Bearer alice'), process(on, 'mutation { pay }', 'Bearer alice')]);
      expect(seen.length - before).toBe(2);
      before = seen.length;
      await Promise.all([process(off, '{ quotes }'), process(off, '{ quotes }')]);
      expect(seen.length - before).toBe(2);
    });

    it('start a new call once the shared one has answered', async () => {
      const source = createSubgraphSource('news', url, 2000);
      const before = seen.length;
      await process(source, '{ quotes }');
      await process(source, '{ quotes }');
      expect(seen.length - before).toBe(2);
    });
  });

  describe("one request's queries to a subgraph in the same turn", () => {
    const fields = (query: string, variables?: Record<string, unknown>) => ({ query, variables, http: { headers: new Map([['x-answer', 'fields']]) } });

    it('go as one query, and each gets its own part of the answer', async () => {
      const merged: number[] = [];
      const source = createSubgraphSource('news', url, 2000, { onMerged: (n) => merged.push(n) });
      const context = { authorization: 'Bearer alice' };
      const before = seen.length;
      const [a, b] = await Promise.all([
        source.process({ kind: 'incoming operation', request: fields('query($n: Int) { a }', { n: 1 }), context } as never),
        source.process({ kind: 'incoming operation', request: fields('query($n: Int) { b }', { n: 2 }), context } as never),
      ]);
      expect(seen.length - before).toBe(1);
      expect(merged).toEqual([2]);
      expect(a?.data).toEqual({ a: { key: '_0_a', variables: { n_0: 1, n_1: 2 } } });
      expect(b?.data).toEqual({ b: { key: '_1_b', variables: { n_0: 1, n_1: 2 } } });
    });

    it('go separately for two requests, for mutations, and when merging is off', async () => {
      const on = createSubgraphSource('news', url, 2000);
      const off = createSubgraphSource('news', url, 2000, { merge: false });
      const context = { authorization: 'Bearer alice' };
      const run = (source: typeof on, query: string, ctx: object) => source.process({ kind: 'incoming operation', request: fields(query), context: ctx } as never);
      let before = seen.length;
      await Promise.all([run(on, '{ a }', context), run(on, '{ b }', { ...context })]);
      expect(seen.length - before).toBe(2);
      before = seen.length;
      await Promise.all([run(on, 'mutation { a }', context), run(on, 'mutation { b }', context)]);
      expect(seen.length - before).toBe(2);
      before = seen.length;
      await Promise.all([run(off, '{ a }', context), run(off, '{ b }', context)]);
      expect(seen.length - before).toBe(2);
    });
  });
});
