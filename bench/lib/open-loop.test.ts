// The generator's scheduling and its correction for coordinated omission, against a local server
// that stalls. Part of `npm test` (the unit project); alone: npx vitest run bench/lib (about 3 s).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { test } from 'vitest';
import { dueBy, runLoad, scheduledAt } from './open-loop.js';

void test('the schedule: request i is due at i / rate, and everything due by now leaves', () => {
  assert.equal(scheduledAt(0, 100), 0);
  assert.equal(scheduledAt(50, 100), 500);
  assert.equal(dueBy(0, 100, 1000), 1); // request 0 is due at once
  assert.equal(dueBy(9.99, 100, 1000), 1);
  assert.equal(dueBy(10, 100, 1000), 2);
  assert.equal(dueBy(1_000_000, 100, 1000), 1000); // never more than the run holds
});

async function server(handler: http.RequestListener) {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, close: () => new Promise<void>((r) => s.close(() => r())) };
}

void test('open loop: latency counts from the scheduled time while the server stalls', async () => {
  // Answers at once, except that everything arriving in the first 500 ms waits until 500 ms.
  const startedAt = performance.now();
  const s = await server((req, res) => {
    req.resume();
    const wait = Math.max(0, startedAt + 500 - performance.now());
    setTimeout(() => res.end('{"data":{}}'), wait);
  });
  try {
    const r = await runLoad({ url: s.url, rate: 100, seconds: 1.5, connections: 4, body: '{}' });
    assert.equal(r.sent, 150);
    assert.equal(r.errors, 0);
    // Half of the first second's requests were due during the stall: the first waited ~500 ms
    // from its schedule, those after it less. A closed loop would have sent 4 and reported ~4 slow.
    assert.ok(r.latency.max >= 400, `max ${r.latency.max}`);
    assert.ok(r.latency.p90 >= 150, `p90 ${r.latency.p90} should include the queued requests`);
    assert.ok(r.latency.p50 < 100, `p50 ${r.latency.p50}`);
    // The run still sent on schedule: 150 requests in ~1.5 s.
    assert.ok(r.achievedRate > 80 && r.achievedRate < 110, `achieved ${r.achievedRate}`);
  } finally {
    await s.close();
  }
});

void test('open loop: a pool of one connection queues, and the queueing counts', async () => {
  // Each answer takes 20 ms on one connection: at 100/s the queue grows by one request every 20 ms.
  const s = await server((req, res) => {
    req.resume();
    setTimeout(() => res.end('{"data":{}}'), 20);
  });
  try {
    const r = await runLoad({ url: s.url, rate: 100, seconds: 0.5, connections: 1, body: '{}' });
    assert.equal(r.sent, 50);
    // The last request was due at 490 ms and answered at ~50 × 20 = 1000 ms.
    assert.ok(r.latency.max > 400, `max ${r.latency.max}`);
    assert.ok(r.achievedRate < 60, `achieved ${r.achievedRate}: one connection answers at most 50/s`);
  } finally {
    await s.close();
  }
});

void test('errors: non-2xx, GraphQL errors and a failed validation are counted by reason', async () => {
  let n = 0;
  const s = await server((req, res) => {
    req.resume();
    const i = n++ % 3;
    if (i === 0) res.writeHead(500).end('no');
    else if (i === 1) res.end('{"errors":[{"message":"x"}]}');
    else res.end('{"data":{"a":1}}');
  });
  try {
    const r = await runLoad({ url: s.url, connections: 1, seconds: 0.3, body: '{}', validate: (body) => (body.toString() === '{"data":{"a":2}}' ? undefined : 'wrong') });
    assert.ok(r.errorReasons['HTTP 500']! > 0);
    assert.ok(r.errorReasons['GraphQL errors']! > 0);
    assert.ok(r.errorReasons.wrong! > 0);
    assert.equal(r.ok, 0);
    assert.equal(r.mode, 'closed');
  } finally {
    await s.close();
  }
});

void test('expectedAnswer: an answer is right only when it is those bytes (a trailing newline aside)', async () => {
  const expected = Buffer.from('{"data":{"a":1}}');
  let n = 0;
  const s = await server((req, res) => {
    req.resume();
    const i = n++ % 4;
    // Right, right with a newline, one byte different, one byte longer.
    res.end(['{"data":{"a":1}}', '{"data":{"a":1}}\n', '{"data":{"a":2}}', '{"data":{"a":1}} '][i]);
  });
  try {
    const r = await runLoad({ url: s.url, connections: 1, seconds: 0.4, body: '{}', expectedAnswer: expected });
    assert.ok(r.answered >= 8, `only ${r.answered} answers`);
    // Answers come in turn on the one connection: half right, half not.
    assert.equal(r.errorReasons['not the expected answer'], r.answered - r.ok);
    assert.ok(Math.abs(r.ok - r.answered / 2) <= 1, `${r.ok} of ${r.answered} right`);
    await assert.rejects(runLoad({ url: s.url, connections: 1, seconds: 0.1, body: '{}', expectedAnswer: Buffer.from('{"errors":[]}') }), /holds GraphQL errors/);
  } finally {
    await s.close();
  }
});

void test('https: requests go over TLS trusting the given CA, and fail without it', async () => {
  // A self-signed certificate for 127.0.0.1, its own CA (as the edge's local CA is for its server's).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'open-loop-tls-'));
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    {
      stdio: 'ignore',
    },
  );
  let secure = 0;
  const s = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    if ((req.socket as import('node:tls').TLSSocket).encrypted) secure++;
    req.resume();
    res.end('{"data":{}}');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}/`;
  try {
    const trusted = await runLoad({ url, ca: readFileSync(cert), rate: 50, seconds: 0.4, connections: 2, body: '{}' });
    assert.equal(trusted.errors, 0, JSON.stringify(trusted.errorReasons));
    assert.equal(trusted.ok, 20);
    assert.equal(secure, 20);
    const untrusted = await runLoad({ url, rate: 50, seconds: 0.1, connections: 1, body: '{}' });
    assert.equal(untrusted.ok, 0);
    assert.ok(untrusted.errorReasons.DEPTH_ZERO_SELF_SIGNED_CERT! > 0, JSON.stringify(untrusted.errorReasons));
  } finally {
    await new Promise<void>((r) => s.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
