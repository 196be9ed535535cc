import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@analytica/logger';
import { forwardUploads } from './uploads.js';

const listen = (server: http.Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/**
 * The gateway's upload route in front of a budget service that refuses every upload at once (a
 * wrong token) and reads no more of it: the rest of the file is never taken off the connection
 * (`drains`: false), or read and dropped, as Node does with a body nobody read.
 */
async function gatewayInFrontOfRefusals(drains: boolean) {
  const budget = http.createServer((req, res) => {
    if (!drains) req.on('data', () => req.pause()); // started reading, then stopped
    res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":{"code":"FORBIDDEN"}}');
  });
  const budgetUrl = await listen(budget);
  const app = express();
  app.put(
    '/uploads/statements/:id',
    forwardUploads(() => budgetUrl, createLogger('uploads-test', 'silent')),
  );
  app.get('/hello', (_req, res) => void res.json({ hello: 'world' }));
  const gateway = http.createServer(app);
  servers.push(budget, gateway);
  return listen(gateway);
}

describe('statement uploads through the gateway', () => {
  it.each([
    ['drops the rest of the file', true],
    ['stops reading the file', false],
  ])(
    'passes on a refusal that comes before the whole file, and the next request on that connection is answered (budget service %s)',
    async (_, drains) => {
      const url = await gatewayInFrontOfRefusals(drains);
      // One kept-alive connection: the next request goes on it once the file has been sent.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const file = Buffer.alloc(24 * 1024 * 1024, 'a');
      try {
        for (let i = 0; i < 3; i++) {
          const refused = await call(agent, `${url}/uploads/statements/u-${i}?token=wrong`, 'PUT', file);
          expect(refused).toEqual({ status: 403, body: '{"error":{"code":"FORBIDDEN"}}' });
          // At once: not after the rest of the file has crept through, or a timeout somewhere freed the connection.
          const next = await Promise.race([call(agent, `${url}/hello`, 'GET'), new Promise((r) => setTimeout(() => r('held up behind the refused file'), 3000))]);
          expect(next).toEqual({ status: 200, body: '{"hello":"world"}' });
        }
      } finally {
        agent.destroy();
      }
    },
    30_000,
  );
});

/** One request on `agent`; fails after 5 s without a whole answer. */
function call(agent: http.Agent, url: string, method: string, body?: Buffer) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request(url, { agent, method, timeout: 5000 }, (answer) => {
      let text = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => (text += chunk));
      answer.on('end', () => resolve({ status: answer.statusCode!, body: text }));
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${url}: no answer within 5 s`)));
    request.on('error', reject);
    request.end(body);
  });
}
