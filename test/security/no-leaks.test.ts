// The suite-wide leak check (no-leaks.setup.ts) itself: it sees a leak on each transport the tests
// use, and it does not mistake a message written for the client, or data, for one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { leaksIn } from './leaks.js';
import { drainLeaks } from './no-leaks.setup.js';

// What an unmasked driver error looks like (the shapes issue 21 found in answers).
const SQL_ERROR = {
  message: 'insert into "budget"."transactions" ("id", "payee") values ($1, $2) - invalid byte sequence for encoding "UTF8": 0x00',
  extensions: { code: 'INTERNAL_SERVER_ERROR' },
};
const STACK_ERROR = {
  message: 'Cannot read properties of undefined',
  extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['TypeError: x', '    at Query.run (/srv/app/node_modules/pg/lib/client.js:526:17)'] },
};
// Written for the client, echoing what the client sent: not a leak.
const CLIENT_ERRORS = [
  { message: 'The file has no column "amount"; its columns are "date", "value".', extensions: { code: 'BAD_USER_INPUT', field: 'input.csv.amount' } },
  { message: 'Line 3, column "date": give the date as YYYY-MM-DD. Nothing was imported.', extensions: { code: 'BAD_USER_INPUT', field: 'input.content', row: 3 } },
  { message: 'Give at least 1 and at most 200 (you sent 0).', extensions: { code: 'BAD_USER_INPUT', field: 'first' } },
  { message: 'Select an account from your list first.', extensions: { code: 'NOT_FOUND' } },
  {
    message: 'Something went wrong on our side. The error was logged under request id 3f1c; please try again.',
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: '3f1c' },
  },
];

let server: Server;
let sockets: WebSocketServer;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/sql') return json(200, { errors: [SQL_ERROR], data: null });
    if (req.url === '/stack') return json(200, { errors: [STACK_ERROR] });
    if (req.url === '/client') return json(200, { errors: CLIENT_ERRORS, data: null });
    // A user's payee that happens to read like SQL, returned as data: not an error, not read.
    if (req.url === '/data') return json(200, { data: { payee: 'select * from users; at Object.<anonymous> (/work/x.ts:1:1)' } });
    if (req.url === '/crash')
      return res
        .writeHead(500, { 'content-type': 'text/html' })
        .end('<pre>Error: boom<br> &nbsp; &nbsp;at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)</pre>');
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: next\ndata: {"data":{"quote":{"symbol":"AAPL"}}}\n\n');
      res.write(`event: next\ndata: ${JSON.stringify({ errors: [SQL_ERROR] })}\n\n`);
      return res.end('event: complete\ndata:\n\n');
    }
    return json(404, { error: 'not found' });
  });
  sockets = new WebSocketServer({ server });
  sockets.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'next', id: '1', payload: { data: { note: 'delete from accounts where true' } } }));
    socket.send(JSON.stringify({ type: 'error', id: '2', payload: [STACK_ERROR] }));
    socket.close(4500, 'relation "payments" does not exist');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  sockets?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** Lets the copies the check reads in the background settle, then takes what it recorded. */
async function recorded() {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return drainLeaks();
}

describe('the suite-wide check of error answers', () => {
  it('records SQL and stack traces in GraphQL errors and in the body of an error status, while the test reads the answer as usual', async () => {
    const sql = (await (await fetch(`${base}/sql`)).json()) as { errors: { message: string }[] };
    expect(sql.errors[0]?.message).toBe(SQL_ERROR.message);
    await (await fetch(`${base}/stack`)).json();
    expect((await fetch(`${base}/crash`)).status).toBe(500);
    const leaks = await recorded();
    expect(leaks.map((l) => l.where.replace(base, ''))).toEqual(['GET /sql (200)', 'GET /stack (200)', 'GET /crash (500)']);
    expect(leaks.every((l) => l.patterns.length > 0)).toBe(true);
  });

  it('records them in SSE events as they pass, and in WebSocket error messages and close reasons', async () => {
    const stream = await (await fetch(`${base}/sse`)).text();
    expect(stream).toContain('"AAPL"');
    const socket = new WebSocket(base.replace('http', 'ws'));
    const closed = await new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    expect(closed).toBe(4500);
    const leaks = await recorded();
    // Both ends of the socket are in this process: the server's side sees the reason it sent too.
    expect(leaks.map((l) => l.where.replace(base, '').replace(base.replace('http', 'ws'), ''))).toEqual([
      'GET /sse (200)',
      'WebSocket /',
      'WebSocket / closed 4500',
      'WebSocket (server side) closed 4500',
    ]);
  });

  it('knows the shapes of a driver error, quoted identifiers escaped in JSON or not', () => {
    for (const leak of [
      'insert into "sec_m1x2y3z4_a1b2c3_budget"."transactions" ("id", "payee") values ($1, $2)',
      'select "a"."id", "a"."balance" from "accounts" as "a" where "a"."user_id" = $1',
      'update "payments" set "status" = $1 where "id" = $2',
      'delete from "sessions" where "user_id" = $1',
      'null value in column "payee" of relation "transactions" violates not-null constraint',
      'relation "budget_test_m1x2y3z4_a1b2c3.accounts" does not exist',
      "TypeError: Cannot read properties of undefined (reading 'id')\n    at resolve (file:///app/dist/index.js:12:7)",
    ]) {
      expect(leaksIn(leak), leak).not.toEqual([]);
      expect(leaksIn(JSON.stringify({ message: leak })), leak).not.toEqual([]);
    }
  });

  it('leaves alone messages written for the client, data, and every ordinary answer', async () => {
    await (await fetch(`${base}/client`)).json();
    await (await fetch(`${base}/data`)).json();
    await (await fetch(`${base}/missing`)).json();
    expect(await recorded()).toEqual([]);
  });
});
