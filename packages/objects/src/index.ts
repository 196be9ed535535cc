import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { bool, ConfigError, parseEnv, url, z } from '@analytica/config';

/**
 * Objects (model artefacts, uploaded statements, article content) behind one interface: an S3 API
 * (s3proxy in stack mode and tests, AWS S3 in production) or a local folder (embedded mode).
 * Keys are `/`-separated paths of safe parts (letters, digits, `.`, `_`, `-`; no `.` or `..` part).
 */
export interface ObjectStore {
  /** Names the store in logs and errors: `s3://bucket` (with its endpoint) or `folder:/path`. */
  readonly description: string;
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /**
   * Streams `length` bytes into the key without holding them in memory (uploads of tens of MB).
   * Fails, and leaves no object, when the stream ends early, carries more, or errors.
   */
  putStream(key: string, body: Readable, length: number, contentType?: string): Promise<void>;
  /** The object's bytes, or null when there is no such key. */
  get(key: string): Promise<Buffer | null>;
  /** Every key that starts with the prefix, sorted. */
  list(prefix?: string): Promise<string[]>;
  /** Removes the key; no error when it is absent. */
  delete(key: string): Promise<void>;
  /** Releases connections (the S3 client); the store is unusable afterwards. */
  close(): void;
}

const PART = /^[A-Za-z0-9._-]+$/;
/** Checks a key (a path of safe parts), so that no key escapes a folder or means two objects. */
export function checkKey(key: string): string {
  const parts = key.split('/');
  if (key.length > 1024 || parts.some((p) => !PART.test(p) || p === '.' || p === '..')) throw new Error(`not a valid object key: ${JSON.stringify(key)}`);
  return key;
}
function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  checkKey(trimmed);
  return prefix;
}

export interface S3Options {
  /** An S3-compatible endpoint (s3proxy: http://127.0.0.1:4569); unset for AWS S3 itself. */
  endpoint?: string | undefined;
  bucket: string;
  region: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** Create the bucket when it is missing (tests, stack mode); never in production. */
  createBucket?: boolean;
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> } | undefined;
  if (!b?.transformToByteArray) throw new Error('S3 answered without a body');
  return Buffer.from(await b.transformToByteArray());
}

const notFound = (error: unknown) => error instanceof NoSuchKey || (error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.$metadata?.httpStatusCode === 404));

/** Passes bytes through, failing the stream when they come to more or (at the end) fewer than `length`. */
export function exactly(length: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > length) done(new Error(`the body is longer than the ${length} bytes announced`));
      else done(null, chunk);
    },
    flush(done) {
      done(seen === length ? null : new Error(`the body ended after ${seen} of the ${length} bytes announced`));
    },
  });
}

/** An S3 bucket, path-style (s3proxy and most S3-compatible servers need it). */
export function s3ObjectStore(options: S3Options): ObjectStore & { ready(): Promise<void> } {
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.accessKeyId && options.secretAccessKey ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } } : {}),
    // Checksums on every request are an AWS extension that S3-compatible servers may not know.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = options.bucket;
  let bucketChecked: Promise<void> | null = null;
  const ready = () =>
    (bucketChecked ??= (async () => {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (error) {
        if (!options.createBucket || !notFound(error)) throw error;
        await client.send(new CreateBucketCommand({ Bucket }));
      }
    })().catch((error: unknown) => {
      bucketChecked = null;
      throw error;
    }));
  return {
    description: `s3://${Bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`,
    ready,
    async put(key, body, contentType) {
      await ready();
      await client.send(
        new PutObjectCommand({ Bucket, Key: checkKey(key), Body: typeof body === 'string' ? Buffer.from(body) : body, ContentType: contentType ?? 'application/octet-stream' }),
      );
    },
    async putStream(key, body, length, contentType) {
      await ready();
      // The SDK sends ContentLength as given; when the body disagrees (or fails) the request is
      // aborted, so S3 never completes the object.
      const counted = exactly(length);
      const abort = new AbortController();
      let failure: unknown;
      counted.once('error', (error) => {
        failure = error;
        abort.abort(error);
      });
      body.once('error', (error) => counted.destroy(error));
      try {
        await client.send(
          new PutObjectCommand({ Bucket, Key: checkKey(key), Body: body.pipe(counted), ContentLength: length, ContentType: contentType ?? 'application/octet-stream' }),
          { abortSignal: abort.signal },
        );
      } catch (error) {
        throw failure ?? error;
      }
    },
    async get(key) {
      await ready();
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket, Key: checkKey(key) }));
        return await bodyBytes(answer.Body);
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },
    async list(prefix = '') {
      await ready();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: checkPrefix(prefix), ContinuationToken: token }));
        // Keys ending in `/` are folder markers (s3proxy's filesystem backend lists its folders): never objects here.
        for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async delete(key) {
      await ready();
      await client.send(new DeleteObjectCommand({ Bucket, Key: checkKey(key) }));
    },
    close: () => client.destroy(),
  };
}

/** A local folder: each key is a file under the root (embedded mode, no server). Writes are atomic (temp file, rename). */
export function folderObjectStore(root: string): ObjectStore {
  const resolved = path.resolve(root);
  const at = (key: string) => path.join(resolved, ...checkKey(key).split('/'));
  async function walk(dir: string, rel: string, out: string[]) {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // temp files of writes in progress
      const key = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(dir, e.name), key, out);
      else if (e.isFile()) out.push(key);
    }
  }
  let counter = 0;
  return {
    description: `folder:${resolved}`,
    async put(key, body) {
      const file = at(key);
      await mkdir(path.dirname(file), { recursive: true });
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
      await writeFile(temp, body);
      await rename(temp, file);
    },
    async putStream(key, body, length) {
      const file = at(key);
      await mkdir(path.dirname(file), { recursive: true });
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
      try {
        await pipeline(body, exactly(length), createWriteStream(temp));
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
    async get(key) {
      try {
        return await readFile(at(key));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR') return null;
        throw error;
      }
    },
    async list(prefix = '') {
      checkPrefix(prefix);
      const keys: string[] = [];
      await walk(resolved, '', keys);
      return keys.filter((k) => k.startsWith(prefix)).sort();
    },
    async delete(key) {
      await rm(at(key), { force: true });
    },
    close() {},
  };
}

/**
 * Where objects live, from the environment: `S3_BUCKET` (with `S3_ENDPOINT` for an S3-compatible
 * server such as s3proxy, and `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY` unless the AWS default
 * chain provides them), or `OBJECTS_DIR` for a local folder. Exactly one of the two.
 */
export const objectsEnv = {
  S3_ENDPOINT: url(['http', 'https']).optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lower-case letters, digits, "." or "-")')
    .optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Create S3_BUCKET when it is missing (stack mode and tests). */
  S3_CREATE_BUCKET: bool(false),
  OBJECTS_DIR: z.string().min(1).optional(),
};
export type ObjectsEnv = z.infer<z.ZodObject<typeof objectsEnv>>;

/** The cross-field rules parseEnv cannot express: one backend, keys in pairs. Answers the problems. */
export function objectsEnvProblems(env: Partial<ObjectsEnv>): string[] {
  const problems: string[] = [];
  if (env.S3_BUCKET && env.OBJECTS_DIR) problems.push('S3_BUCKET and OBJECTS_DIR are both set: choose one object store');
  if (!env.S3_BUCKET && env.S3_ENDPOINT) problems.push('S3_ENDPOINT is set but S3_BUCKET is missing');
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both or neither');
  return problems;
}

/** True when the environment names an object store (S3_BUCKET or OBJECTS_DIR). */
export const objectsConfigured = (env: Partial<ObjectsEnv>) => Boolean(env.S3_BUCKET || env.OBJECTS_DIR);

/** The store the environment names; throws (naming the variables) when it names none or is contradictory. */
export function objectStoreFromEnv(env: Partial<ObjectsEnv>): ObjectStore {
  const problems = objectsEnvProblems(env);
  if (problems.length) throw new ConfigError(problems);
  if (env.S3_BUCKET)
    return s3ObjectStore({
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET,
      region: env.S3_REGION ?? 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      createBucket: env.S3_CREATE_BUCKET ?? false,
    });
  if (env.OBJECTS_DIR) return folderObjectStore(env.OBJECTS_DIR);
  throw new Error('No object store configured: set S3_BUCKET (and S3_ENDPOINT for an S3-compatible server) or OBJECTS_DIR');
}

/** Parses and checks the object store variables alone (for tools such as the model CLI). */
export function parseObjectsEnv(source: Record<string, string | undefined>): ObjectsEnv {
  const env = parseEnv(objectsEnv, source);
  const problems = objectsEnvProblems(env);
  if (problems.length) throw new ConfigError(problems);
  return env;
}
