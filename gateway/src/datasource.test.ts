import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
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
});
