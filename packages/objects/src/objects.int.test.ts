import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { folderObjectStore, objectStoreFromEnv, parseObjectsEnv, s3ObjectStore, type ObjectStore } from './index.js';

/** s3proxy from infra/up.sh (infra/s3proxy/start.sh): 127.0.0.1:4569, bucket per run. */
const endpoint = process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:4569';
// A bucket of its own, created on first use (S3_CREATE_BUCKET), reused by later runs; keys under a run prefix.
const run = `run-${randomUUID().slice(0, 8)}/`;
const s3 = s3ObjectStore({
  endpoint,
  bucket: 'objects-test',
  region: 'us-east-1',
  accessKeyId: 'analytica',
  secretAccessKey: 'analytica-secret',
  createBucket: true,
});
let dir = '';

afterAll(async () => {
  for (const key of await s3.list(run)) await s3.delete(key);
  s3.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The same store seen under a key prefix, so that runs sharing the bucket never see each other's keys. */
const under = (store: ObjectStore, prefix: string): ObjectStore => ({
  description: store.description,
  put: (key, body, type) => store.put(`${prefix}${key}`, body, type),
  putStream: (key, body, length, type) => store.putStream(`${prefix}${key}`, body, length, type),
  get: (key) => store.get(`${prefix}${key}`),
  list: async (p = '') => (await store.list(`${prefix}${p}`)).map((k) => k.slice(prefix.length)),
  delete: (key) => store.delete(`${prefix}${key}`),
  close: () => undefined,
});

function* chunks(bytes: Buffer, size = 64 * 1024) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function contract(store: ObjectStore) {
  expect(await store.get('models/none/x.json')).toBeNull();
  await store.put('models/a/1/model.json', '{"a":1}', 'application/json');
  await store.put('models/a/2/model.json', Buffer.from('{"a":2}'));
  await store.put('models/b/ACTIVE.json', 'b');
  expect((await store.get('models/a/1/model.json'))?.toString()).toBe('{"a":1}');
  await store.put('models/a/1/model.json', '{"a":"again"}');
  expect((await store.get('models/a/1/model.json'))?.toString()).toBe('{"a":"again"}');
  expect(await store.list('models/a/')).toEqual(['models/a/1/model.json', 'models/a/2/model.json']);
  expect(await store.list()).toEqual(['models/a/1/model.json', 'models/a/2/model.json', 'models/b/ACTIVE.json']);
  await store.delete('models/a/1/model.json');
  await store.delete('models/a/1/model.json'); // absent: no error
  expect(await store.get('models/a/1/model.json')).toBeNull();
  expect(await store.list('models/a/')).toEqual(['models/a/2/model.json']);
  // Streams: 3 MB in 64 KiB chunks arrive whole; a body shorter or longer than announced leaves no object.
  const big = Buffer.alloc(3 * 1024 * 1024, 'statement line\n');
  await store.putStream('uploads/u/1', Readable.from(chunks(big)), big.length, 'text/csv');
  expect((await store.get('uploads/u/1'))?.equals(big)).toBe(true);
  await expect(store.putStream('uploads/u/2', Readable.from(chunks(big)), big.length + 1)).rejects.toThrow();
  await expect(store.putStream('uploads/u/3', Readable.from(chunks(big)), big.length - 1)).rejects.toThrow();
  // (s3proxy's filesystem backend keeps its own partial files of aborted uploads under other names; S3 keeps nothing.)
  expect([await store.get('uploads/u/2'), await store.get('uploads/u/3')]).toEqual([null, null]);
  await store.delete('uploads/u/1');
  await expect(store.put('../escape', 'x')).rejects.toThrow(/not a valid object key/);
  await expect(store.get('models/../../etc/passwd')).rejects.toThrow(/not a valid object key/);
}

describe('object stores behind one interface', () => {
  it('S3 (s3proxy): put, get, list, delete', async () => {
    await contract(under(s3, run));
  });

  it('S3 lists past one page (1000 keys per answer)', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `${run}paging/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => s3.put(k, 'x')));
    expect(await s3.list(`${run}paging/`)).toEqual(keys);
  }, 120_000);

  it('a local folder: the same calls', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'objects-'));
    await contract(folderObjectStore(dir));
  });

  it('S3 with wrong credentials is refused, not mistaken for a missing object', async () => {
    const wrong = s3ObjectStore({ endpoint, bucket: 'analytica', region: 'us-east-1', accessKeyId: 'analytica', secretAccessKey: 'wrong' });
    await expect(wrong.get('anything')).rejects.toThrow();
    wrong.close();
  });

  it('configuration: one backend, named variables', () => {
    expect(() => parseObjectsEnv({ S3_BUCKET: 'models', OBJECTS_DIR: '/tmp/x' })).toThrow(/S3_BUCKET and OBJECTS_DIR/);
    expect(() => parseObjectsEnv({ S3_BUCKET: 'Bad_Bucket' })).toThrow(/S3_BUCKET/);
    expect(() => parseObjectsEnv({ S3_ENDPOINT: 'http://127.0.0.1:4569' })).toThrow(/S3_BUCKET is missing/);
    expect(() => parseObjectsEnv({ S3_BUCKET: 'models', S3_ACCESS_KEY_ID: 'a' })).toThrow(/S3_SECRET_ACCESS_KEY/);
    expect(() => objectStoreFromEnv({})).toThrow(/OBJECTS_DIR/);
    expect(objectStoreFromEnv(parseObjectsEnv({ S3_BUCKET: 'models', S3_ENDPOINT: endpoint })).description).toBe(`s3://models at ${endpoint}`);
    expect(objectStoreFromEnv(parseObjectsEnv({ OBJECTS_DIR: '/tmp/objects' })).description).toBe('folder:/tmp/objects');
  });
});
