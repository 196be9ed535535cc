import { z } from 'zod';

export { z };

/** Thrown by parseEnv; loadEnv turns it into one readable message and a non-zero exit. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function parseEnv<S extends z.ZodRawShape>(shape: S, source: Record<string, string | undefined> = process.env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(source);
  if (result.success) {
    if ('METRICS_PORT' in shape) {
      const problem = resolveMetricsPort(result.data as Record<string, unknown>);
      if (problem) throw new ConfigError([problem]);
    }
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const given = source[name];
    const shown = given === undefined ? 'is missing' : `is "${redact(name, given)}"`;
    return `${name} ${shown}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/**
 * Validates the environment at start-up; a bad value stops the process with a message naming it.
 * Give the shape, or the service's own parse function when some variables depend on others.
 */
export function loadEnv<S extends z.ZodRawShape>(service: string, shape: S): z.infer<z.ZodObject<S>>;
export function loadEnv<T>(service: string, parse: (source: Record<string, string | undefined>) => T): T;
export function loadEnv(service: string, shapeOrParse: z.ZodRawShape | ((source: Record<string, string | undefined>) => unknown)): unknown {
  try {
    return typeof shapeOrParse === 'function' ? shapeOrParse(process.env) : parseEnv(shapeOrParse);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** How far the private metrics listener sits from the public one when METRICS_PORT is not set. */
export const METRICS_PORT_OFFSET = 5000;

/**
 * METRICS_PORT defaults to PORT + 5000 (the gateway's 4000 -> 9000), or to 0 (a free port) when
 * PORT is 0; it must be a port and must differ from PORT, since /metrics never shares the public
 * listener. Fills the default in; answers the problem, if any.
 */
function resolveMetricsPort(env: Record<string, unknown>): string | undefined {
  const port = typeof env.PORT === 'number' ? env.PORT : 0;
  if (env.METRICS_PORT === undefined) {
    const derived = port === 0 ? 0 : port + METRICS_PORT_OFFSET;
    if (derived > 65535) return `METRICS_PORT is missing: its default, PORT + ${METRICS_PORT_OFFSET} = ${derived}, is not a port; set METRICS_PORT`;
    env.METRICS_PORT = derived;
  } else if (env.METRICS_PORT !== 0 && env.METRICS_PORT === port) {
    return `METRICS_PORT is "${env.METRICS_PORT}": must differ from PORT (/metrics is never served on the public listener)`;
  }
  return undefined;
}

function redact(name: string, value: string) {
  return /KEY|SECRET|PASSWORD|TOKEN/i.test(name) ? '***' : value.slice(0, 80);
}

// Field types shared by every service's environment.ts.
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` },
  );
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
const nodeEnv = z.enum(['development', 'test', 'production']).default('development');
export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
export const list = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine((v) => v.length > 0, { message: 'must list at least one value, separated by commas' });
/**
 * express's "trust proxy": which proxies' X-Forwarded-For to believe for the caller's address.
 * `false` (the socket's peer), `true` (any), a hop count, or addresses and names such as
 * `loopback, uniquelocal, 10.0.0.0/8`.
 */
export const trustProxy = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v): boolean | number | string => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v));
/** A PostgreSQL schema name or prefix: lower-case letters, digits and underscores. */
export const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits or _');
/** PEM text, either as is or with literal "\n" escapes (as env files often carry it). */
export const pem = z
  .string()
  .transform((v) => v.replace(/\\n/g, '\n'))
  .refine((v) => v.includes('-----BEGIN '), { message: 'must be a PEM-encoded key' });

// Variable groups that several services share; a service spreads the ones it uses into its shape.
export const serviceEnv = (defaultPort: number) => ({
  NODE_ENV: nodeEnv,
  LOG_LEVEL: logLevel,
  HOST: z.string().default('127.0.0.1'),
  PORT: port(defaultPort),
  /** The private listener of GET /metrics: PORT + 5000 by default (0 when PORT is 0), never PORT. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().default('127.0.0.1'),
});
export const redisEnv = {
  REDIS_URL: url(['redis', 'rediss', 'memory']).default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default(''),
  // The Redis budget of request paths (token checks, rate limits, quotas): docs/ARCHITECTURE.md, "Dependency outages".
  /** A Redis call on a request path not answered within this is given up (the caller answers as for an outage). */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(500),
  /** Failures in a row after which calls to Redis fail at once (circuit open) instead of each waiting the timeout. */
  REDIS_BREAKER_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  /** How long an open circuit fails calls before one probe goes through; also bounds the recovery time. */
  REDIS_BREAKER_OPEN_MS: z.coerce.number().int().min(100).max(60_000).default(500),
  /** Calls waiting for Redis at once beyond which new ones fail at once, so a dead Redis cannot pile up work. */
  REDIS_MAX_PENDING: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Longest wait between two reconnection attempts to a Redis that went away. */
  REDIS_RECONNECT_MAX_DELAY_MS: z.coerce.number().int().min(10).max(60_000).default(250),
};
/**
 * Every service verifies access tokens: the keys come from JWKS_URL, and revoked sessions and
 * disabled users are looked up in Redis (the same REDIS_URL and REDIS_KEY_PREFIX as the user
 * service writes them with), so the Redis variables belong to this group too.
 */
export const tokenEnv = {
  JWKS_URL: url(['http', 'https']).default('http://127.0.0.1:4001/.well-known/jwks.json'),
  JWT_ISSUER: z.string().min(1).default('analytica'),
  JWT_AUDIENCE: z.string().min(1).default('analytica-api'),
  /**
   * While Redis cannot answer, a correctly signed, unexpired token whose session this process saw
   * not revoked within this many seconds is still let through; any other token is refused with
   * SERVICE_UNAVAILABLE (503). 0 fails closed at once. docs/ARCHITECTURE.md, "Dependency outages".
   */
  AUTH_REVOCATION_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  /**
   * How long a token seen not revoked is taken as such without asking Redis again; every published
   * revocation empties that cache at once (packages/auth revocation-cache.ts). 0 asks Redis on
   * every request. docs/ARCHITECTURE.md, "Revocation".
   */
  AUTH_REVOCATION_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  ...redisEnv,
};
/**
 * The gateway signs every request it sends a subgraph with this key, and every subgraph refuses a
 * request without a valid signature (packages/service/src/signing.ts): the subgraphs answer only
 * the gateway. The same secret on both sides; at least 32 characters (`openssl rand -base64 32`).
 */
export const subgraphSigningEnv = {
  SUBGRAPH_SIGNING_KEY: z.string().min(32, { message: 'must be at least 32 characters (e.g. openssl rand -base64 32); the gateway and every subgraph share it' }),
  /** How far a signature's time may be from the subgraph's clock, either way: the replay window. */
  SUBGRAPH_SIGNATURE_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(300).default(30),
};
/** A PostgreSQL timeout in milliseconds: 1 ms to 10 minutes (0, "no limit", is not accepted). */
const pgTimeoutMs = (fallback: number) => z.coerce.number().int().min(1).max(600_000).default(fallback);
export const postgresEnv = (defaultSchema: string) => ({
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/postgres'),
  DATABASE_SCHEMA: identifier.default(defaultSchema),
  /** PostgreSQL cancels a statement of the service's pool that runs longer (statement_timeout). */
  DATABASE_STATEMENT_TIMEOUT_MS: pgTimeoutMs(5_000),
  /** ... and one that waits longer than this for a lock (lock_timeout). */
  DATABASE_LOCK_TIMEOUT_MS: pgTimeoutMs(2_000),
  /** Longest a new connection may take to be accepted; a statement's answer waits statement timeout + 1 s at most. */
  DATABASE_CONNECT_TIMEOUT_MS: pgTimeoutMs(5_000),
});
export const kafkaEnv = {
  KAFKA_BROKERS: list.default(['127.0.0.1:9092']),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[\w.-]*$/, 'must be letters, digits, ".", "_" or "-"')
    .default(''),
  /**
   * How long a consumer group waits for a member that stopped sending heartbeats (a crash,
   * SIGKILL) before its partitions go to the others; 6 s is the broker's least. Shorter: a faster
   * take-over; longer: fewer needless rebalances when a process pauses (a long GC, a slow host).
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(30_000),
};
export const dynamoEnv = {
  DYNAMODB_ENDPOINT: url(['http', 'https']).optional(),
  DYNAMODB_REGION: z.string().min(1).default('eu-west-1'),
  /** One attempt of a DynamoDB call that sends nothing back for this long is given up (then retried while attempts are left). */
  DYNAMODB_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  /** Attempts per DynamoDB call, the first included: a call gives up after about this many request timeouts. */
  DYNAMODB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  DYNAMODB_TABLE_PREFIX: z
    .string()
    .regex(/^[\w.-]*$/, 'must be letters, digits, ".", "_" or "-"')
    .default(''),
};
