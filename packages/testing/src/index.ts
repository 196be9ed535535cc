import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { generate } from 'otplib';
import pg from 'pg';
import { createTokenIssuer, generateSigningKeyPem, type Role } from '@analytica/auth';
import { SIGNATURE_HEADER, signRequest } from '@analytica/service';
import { startFaultProxy } from './fault-proxy.js';

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
    SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
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

/**
 * The gateway-to-subgraph signing key of test runs (SUBGRAPH_SIGNING_KEY): in createTestAuth's
 * and isolatedRunEnv's variables, and `gql` signs every request with it, so a test may call a
 * subgraph directly as the gateway would. A request without it is refused (issue 17).
 */
export const TEST_SUBGRAPH_SIGNING_KEY = 'test-only-subgraph-signing-key-0123456789abcdef';

/** The signature header of a request to `url` with this body, as the gateway signs it. */
export function gatewaySignature(url: string, body: string, key = TEST_SUBGRAPH_SIGNING_KEY, nowMs = Date.now()): Record<string, string> {
  const { pathname, search } = new URL(url);
  return { [SIGNATURE_HEADER]: signRequest(key, { method: 'POST', path: pathname + search, body }, nowMs) };
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
    env: { JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY },
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

/**
 * POSTs one GraphQL operation, as a browser would; signed as the gateway signs (with
 * TEST_SUBGRAPH_SIGNING_KEY), so that the same call reaches a subgraph directly. The gateway
 * ignores the signature.
 */
export async function gql<T = any>(
  url: string,
  query: string,
  options: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const body = JSON.stringify({ query, variables: options.variables });
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...gatewaySignature(url, body),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body,
  });
  const answer = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...answer };
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
 * (or Redis, or DynamoDB) without stopping the server other tests use: the fault proxy
 * (fault-proxy.ts) with only its cut and restore.
 */
export async function createTcpProxy(target: { host: string; port: number }) {
  const proxy = await startFaultProxy(target);
  return {
    port: proxy.port,
    /** Drops every open connection and refuses new ones until restore(). */
    cut: () => proxy.kill(),
    restore: () => proxy.resume(),
    close: () => proxy.close(),
  };
}

/**
 * A TCP port nothing listens on right now, and not handed out before in this process.
 *
 * Chosen at random below the kernel's ephemeral range (`ip_local_port_range`, 32768-60999 here),
 * not with bind(0): a port from bind(0) is an ephemeral one, and between the test releasing it and
 * the service binding it, any outgoing connection on the machine may take it as its local port
 * (CI saw a stack's market service fail with EADDRINUSE so). Below that range only another
 * listener can take it, and the random choice makes two test processes picking the same port at
 * the same moment unlikely.
 */
const handedOut = new Set<number>();
const PORTS_FROM = 20_000;
function ephemeralPortsStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
}
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  const below = ephemeralPortsStart();
  const listenable = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const { port: bound } = server.address() as AddressInfo;
        server.close(() => resolve(bound));
      });
    });
  for (let attempt = 0; ; attempt++) {
    // A machine whose ephemeral range starts low leaves no room below it: then bind(0) it is.
    const candidate = below - PORTS_FROM >= 1000 && attempt < 200 ? PORTS_FROM + Math.floor(Math.random() * (below - PORTS_FROM)) : 0;
    if (handedOut.has(candidate)) continue;
    const port = await listenable(candidate);
    if (port === undefined || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * TOTP codes in increasing time steps: the user service accepts each step once, and one step
 * either side of now, so three codes are at hand without waiting.
 */
const lastStep = new Map<string, number>();
export async function nextTotpCode(secret: string): Promise<string> {
  for (;;) {
    const now = Date.now() / 1000;
    const current = Math.floor(now / 30);
    const step = Math.max(current - 1, (lastStep.get(secret) ?? 0) + 1);
    if (step <= current + 1 && 30 - (now % 30) > 3) {
      lastStep.set(secret, step);
      return generate({ secret, epoch: step * 30 + 15 });
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The demo administrator signed in with two-factor authentication, enrolling an authenticator on
 * the first sign-in (the README's first-administrator flow). Returns the access token and the TOTP
 * secret, for later codes.
 */
export async function signInAdmin(gateway: string, admin: { email: string; password: string }): Promise<{ accessToken: string; totpSecret: string }> {
  const login = async (totpCode?: string) => {
    const response = await gql(
      gateway,
      'mutation($e: String!, $p: String!, $t: String) { login(email: $e, password: $p, totpCode: $t) { accessToken twoFactorEnrolmentRequired } }',
      {
        variables: { e: admin.email, p: admin.password, t: totpCode },
      },
    );
    if (response.errors) throw new Error(`admin sign-in failed: ${JSON.stringify(response.errors)}`);
    return response.data.login as { accessToken: string; twoFactorEnrolmentRequired: boolean };
  };
  const first = await login();
  if (!first.twoFactorEnrolmentRequired) throw new Error('the administrator is already enrolled: use a fresh system');
  const begun = await gql(gateway, 'mutation { beginTotpEnrolment { secret } }', { token: first.accessToken });
  const totpSecret = begun.data.beginTotpEnrolment.secret as string;
  const confirmed = await gql(gateway, 'mutation($c: String!) { confirmTotpEnrolment(code: $c) { accessToken } }', {
    token: first.accessToken,
    variables: { c: await nextTotpCode(totpSecret) },
  });
  if (confirmed.errors) throw new Error(`TOTP enrolment failed: ${JSON.stringify(confirmed.errors)}`);
  const signedIn = await login(await nextTotpCode(totpSecret));
  return { accessToken: signedIn.accessToken, totpSecret };
}
