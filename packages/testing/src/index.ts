import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createTokenIssuer, generateSigningKeyPem, type Role } from '@analytica/auth';

/**
 * Helpers for integration tests against the real services that .ci/run starts. Every test run
 * gets its own PostgreSQL schema, Redis key prefix, Kafka topic prefix and DynamoDB table prefix.
 */
export const services = {
  databaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  kafkaBrokers: process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092',
  dynamoEndpoint: process.env.TEST_DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:4567',
};

/**
 * What every service of one test run gets so that it shares the real PostgreSQL, Redis, Kafka and
 * DynamoDB with other runs without meeting their data: its prefixes, named after the run.
 */
export function isolatedRunEnv(run: string): Record<string, string> {
  return {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: `${run}:`,
    KAFKA_BROKERS: services.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    DYNAMODB_ENDPOINT: services.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: `${run}_`,
  };
}

/** A name no other run uses: lower case, digits and underscores (valid as a schema or a prefix). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export const ISSUER = 'analytica-test';
export const AUDIENCE = 'analytica-test-api';

/**
 * A stand-in for the user service's key: signs tokens for any user and serves the JWKS that the
 * service under test fetches. The verification path is the real one.
 */
export async function createTestAuth() {
  const privateKeyPem = generateSigningKeyPem();
  const issuer = createTokenIssuer(privateKeyPem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 900 });
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(issuer.jwks()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    privateKeyPem,
    env: { JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
    tokenFor(user: { id: string; role?: Role }, options: { ttlSeconds?: number } = {}): string {
      const signer = options.ttlSeconds ? createTokenIssuer(privateKeyPem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: options.ttlSeconds }) : issuer;
      return signer.issue({ id: user.id, role: user.role ?? 'USER', sessionId: randomUUID() }, randomUUID());
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type TestAuth = Awaited<ReturnType<typeof createTestAuth>>;

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** POSTs one GraphQL operation, as a browser would. */
export async function gql<T = any>(
  url: string,
  query: string,
  options: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/** Removes a schema a test created. */
export async function dropSchema(schema: string, databaseUrl = services.databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/**
 * A TCP proxy in front of a real server, so that a test can cut a service off from its database
 * (or Redis, or DynamoDB) without stopping the server other tests use.
 */
export async function createTcpProxy(target: { host: string; port: number }) {
  const net = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    /** Drops every open connection and refuses new ones until restore(). */
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
