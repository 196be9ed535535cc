// dynalite, the DynamoDB API server that stack mode, CI and the tests run (infra/dynalite), as
// patched in patches/dynalite+4.0.0.patch: every Query and Scan used to leave its LevelDB iterator
// open (dynalite's streams called a `return()` that abstract-level's iterators do not have, never
// `close()`), holding the items it had read ahead. An hour of the stack's personal news feed grew
// it past 2 GB and slowed every query (bench/README.md, soak). This runs one in this process, so
// that its heap can be weighed.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { batchWrite, createDynamo, QueryCommand, type Dynamo } from '@analytica/dynamo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number }) => Server;

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

let server: Server;
let dataDir: string;
let dynamo: Dynamo;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'dynalite-iterators-'));
  server = dynalite({ path: dataDir, createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dynamo = createDynamo({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1' });
  await dynamo.ensureTable({
    TableName: 'articles',
    KeySchema: [
      { AttributeName: 'feed', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'feed', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
  });
  // One feed of 200 articles of 4 KB: a query for its newest 10 reads ahead more than it returns.
  for (let batch = 0; batch < 8; batch++) {
    const items = Array.from({ length: 25 }, (_, n) => ({ feed: 'ALL', sk: String(batch * 25 + n).padStart(6, '0'), body: 'x'.repeat(4096) }));
    await batchWrite(
      dynamo,
      'articles',
      items.map((Item) => ({ PutRequest: { Item } })),
    );
  }
}, 60_000);

afterAll(async () => {
  dynamo?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('dynalite (patched)', () => {
  it('keeps no memory per query: 2,000 queries for the newest 10 of 200 articles leave its heap where it was', async () => {
    const newest = (limit?: number) =>
      dynamo.doc.send(
        new QueryCommand({
          TableName: 'articles',
          KeyConditionExpression: 'feed = :feed',
          ExpressionAttributeValues: { ':feed': 'ALL' },
          ScanIndexForward: false,
          Limit: limit,
          ConsistentRead: true,
        }),
      );
    const first = await newest(10);
    expect(first.Items?.map((i) => i.sk)).toEqual(Array.from({ length: 10 }, (_, n) => String(199 - n).padStart(6, '0')));
    expect((await newest()).Items).toHaveLength(200);
    const before = heapAfterGc();
    for (let n = 0; n < 2000; n++) await newest(10);
    const grown = (heapAfterGc() - before) / 2 ** 20;
    console.log(`dynalite heap after 2,000 queries: ${grown >= 0 ? '+' : ''}${grown.toFixed(1)} MB`);
    // Unpatched, each open iterator held what it had read ahead: about +20 MB here.
    expect(grown).toBeLessThan(6);
  }, 120_000);
});
