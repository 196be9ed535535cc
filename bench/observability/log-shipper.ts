// What shipping one log line costs (issue 16, acceptance 4): the log shipper's CPU and
// PostgreSQL's per line, shipping files of gateway-like access lines into a fresh log store schema.
// A micro-benchmark of the shipper's own path (read, parse, write); overhead.ts measures the whole
// stack with and without it.
//
//   npx tsx bench/observability/log-shipper.ts [lines, default 60000]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { createLogger } from '@analytica/logger';
import { openLogStore } from '@analytica/logstore';
import { createShipper } from '@analytica/log-shipper';
import { sharedServerCpuSeconds } from '../market/lib.js';

const LINES = Number(process.argv[2] ?? 60_000);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dir = path.join(os.tmpdir(), `analytica-shipper-bench-${process.pid}`);

mkdirSync(dir, { recursive: true });
// Three services' access lines, as a gateway request and its two subgraph calls write them.
for (const service of ['gateway', 'user', 'market']) {
  const lines: string[] = [];
  for (let i = 0; i < LINES / 3; i++) {
    const time = new Date(Date.now() - 60_000 + i).toISOString();
    const ids = { requestId: randomUUID(), traceId: randomUUID().replace(/-/g, '') };
    lines.push(JSON.stringify({ level: 'info', time, service, ...ids, method: 'POST', path: '/graphql', status: 200, ms: 3, msg: 'request' }));
  }
  writeFileSync(path.join(dir, `${service}.log`), `${lines.join('\n')}\n`);
}
const schema = `bench_shipper_${Date.now().toString(36)}`;
const store = openLogStore({ url: DATABASE_URL, schema, poolMax: 2 });
try {
  await store.migrate();
  const shipper = createShipper({
    store,
    dir,
    logger: createLogger('bench', 'silent'),
    registry: new client.Registry(),
    retentionDays: 7,
    pollMs: 250,
    batchLines: 2000,
    retryMaxMs: 1000,
  });
  const postgresBefore = sharedServerCpuSeconds().postgresql;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  shipper.start();
  // stop() ships everything written, then stops.
  await shipper.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const ms = performance.now() - started;
  const postgres = sharedServerCpuSeconds().postgresql - postgresBefore;
  const storedLines = (await store.query({ first: 1 })).entries.length;
  if (!storedLines) throw new Error('nothing was stored');
  console.log(
    `${LINES} lines shipped in ${ms.toFixed(0)} ms (${((LINES / ms) * 1000).toFixed(0)} lines/s); ` +
      `shipper CPU ${((cpu.user + cpu.system) / LINES).toFixed(1)} µs/line, PostgreSQL ${((postgres * 1e6) / LINES).toFixed(1)} µs/line`,
  );
} finally {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
