// The whole system for the attack suite, the way the end-to-end test runs it: six subgraph
// processes and the gateway against the real PostgreSQL, Redis, Kafka and dynalite, with this
// run's own schemas, key prefix, topic prefix, table prefix and ports.
import { createPrivateKey, createSign, randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { keyIdOf } from '@analytica/auth';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { dropSchema, freePort, gql, type GraphQLResponse, isolatedRunEnv, services, uniqueName } from '@analytica/testing';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS, type SubgraphName } from '../../dev/src/processes.js';
import { localSecrets } from '../../dev/src/secrets.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';

export const ISSUER = 'analytica';
export const AUDIENCE = 'analytica-api';

export interface System {
  stack: RunningStack;
  gateway: string;
  /** `/graphql` of each subgraph, to talk to it directly as an attacker on the network would. */
  subgraph: Record<SubgraphName, string>;
  /** The signing key the user service was started with: to forge tokens that differ in one claim only. */
  privateKeyPem: string;
  /** Reads what a subgraph has queued to send (its outbox), e.g. the email with a one-time code. */
  outbox(name: SubgraphName): Promise<{ topic: string; value: string }[]>;
  stop(): Promise<void>;
}

export async function startSystem(): Promise<System> {
  const run = uniqueName('sec');
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  const dataDir = path.join(repoRoot, '.data/test-secrets');
  // Every schema, key and table of this run: the subgraphs' and those of the workers the stack starts beside them.
  async function cleanUp() {
    const client = new pg.Client({ connectionString: services.databaseUrl });
    await client.connect();
    const schemas = (await client.query('select nspname from pg_namespace where starts_with(nspname, $1)', [`${run}_`])).rows as { nspname: string }[];
    await client.end();
    for (const { nspname } of schemas) await dropSchema(nspname);
    const redis = createRedis(services.redisUrl);
    const keys = await redis.keys(`${run}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
    await deleteTablesWithPrefix(dynamo, `${run}_`);
    dynamo.close();
  }
  const stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir,
    env: {
      LOG_LEVEL: 'info',
      ...isolatedRunEnv(run),
    },
  }).catch(async (error: unknown) => {
    await cleanUp();
    throw error;
  });
  const { jwtPrivateKey } = await localSecrets(dataDir);
  return {
    stack,
    gateway: stack.gatewayUrl,
    subgraph: Object.fromEntries(SUBGRAPHS.map((name) => [name, `${stack.services.get(name)!.url}/graphql`])) as Record<SubgraphName, string>,
    privateKeyPem: jwtPrivateKey,
    async outbox(name) {
      const client = new pg.Client({ connectionString: services.databaseUrl });
      await client.connect();
      try {
        return (await client.query(`select topic, value from "${run}_${name}".outbox order by created_at`)).rows;
      } finally {
        await client.end();
      }
    },
    async stop() {
      await stack.stop();
      await cleanUp();
    },
  };
}

/** Every answer with errors (or an error status) the suite received through `call`: none may leak internals. */
export const errorAnswers: { url: string; query: string; status: number; body: string }[] = [];

/** One GraphQL call; `token` goes as a bearer token, `authorization` as the raw header. Error answers are kept in `errorAnswers`. */
export async function call(
  url: string,
  query: string,
  options: { token?: string; authorization?: string; variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse> {
  const response = await gql(url, query, {
    token: options.token,
    variables: options.variables,
    headers: { ...options.headers, ...(options.authorization !== undefined ? { authorization: options.authorization } : {}) },
  });
  if (response.errors?.length || response.status >= 400) errorAnswers.push({ url, query, status: response.status, body: JSON.stringify(response.errors ?? response) });
  return response;
}

// What an answer must never carry: one list for this suite and for every test (no-leaks.setup.ts).
export { LEAKS, leaksIn } from './leaks.js';

export const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims as the user service writes them, for a user and session of the caller's choosing. */
export function claims(user: { id: string; sessionId: string; role?: string }, overrides: Record<string, unknown> = {}) {
  return {
    role: user.role ?? 'USER',
    sid: user.sessionId,
    iat: nowSeconds(),
    nbf: nowSeconds(),
    exp: nowSeconds() + 900,
    aud: AUDIENCE,
    iss: ISSUER,
    sub: user.id,
    jti: randomUUID(),
    ...overrides,
  };
}

/** RS256 over exactly the header and payload given. */
export function signRs256(privateKeyPem: string, payload: object, header: Record<string, unknown> = {}): string {
  const key = createPrivateKey(privateKeyPem);
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: keyIdOf(key), ...header })}.${b64(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

/** The claims inside a token (no check: the attacker reads them too). */
export function readClaims(token: string): { sub: string; sid: string; role: string; kid?: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}
