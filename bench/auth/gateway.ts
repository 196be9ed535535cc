// What checking an access token costs at the gateway: the gateway's CPU per request for the same
// query with and without a token, at a constant arrival rate (the open-loop generator,
// bench/lib/open-loop.ts: target and achieved rates printed), against the gateway process. With a token
// the gateway verifies the RS256 signature and claims and asks Redis whether the session was
// revoked (one HMGET); both ways it spends from the per-address request budget in Redis, and
// with a token from the user's budget too. A second part times the verifier alone, in process.
//
//   npx tsx bench/auth/gateway.ts
//   BENCH_RATE=300 BENCH_SECONDS=20 BENCH_CONNECTIONS=20 BENCH_ROUNDS=5 npx tsx bench/auth/gateway.ts
import { randomUUID } from 'node:crypto';
import { createRevocationList, createTokenIssuer, createTokenVerifier, generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { services } from '@analytica/testing';
import { describeLoad, runLoad } from '../lib/open-loop.js';
import { treeCpuSeconds } from '../market/lib.js';
import { say, startAuthServices } from './services.js';

const RATE = Number(process.env.BENCH_RATE ?? 300);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function hmgetCalls(): Promise<number> {
  const redis = createRedis(services.redisUrl);
  try {
    const stats = await redis.info('commandstats');
    return Number(/cmdstat_hmget:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  } finally {
    await redis.quit();
  }
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  hmgetsPerRequest: number;
  /** The gateway process's CPU per answered request, µs. */
  cpuUs: number;
}

async function load(url: string, gatewayPid: number, query: string, token?: string, seconds = SECONDS): Promise<Run> {
  const before = await hmgetCalls();
  const cpuBefore = treeCpuSeconds(gatewayPid);
  const result = await runLoad({
    url,
    rate: RATE,
    connections: CONNECTIONS,
    seconds,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  const cpuUs = ((treeCpuSeconds(gatewayPid) - cpuBefore) * 1e6) / Math.max(1, result.answered);
  if (result.errors > 0) throw new Error(`${query}: ${describeLoad(result)}`);
  const hmgetsPerRequest = ((await hmgetCalls()) - before) / Math.max(1, result.answered);
  say(`    ${query}${token ? ' with a token' : ''}: ${describeLoad(result)}`);
  return { rps: result.achievedRate, p50: result.latency.p50, p99: result.latency.p99, hmgetsPerRequest, cpuUs };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
function report(label: string, runs: Run[]) {
  say(
    `  ${label.padEnd(44)} target ${RATE} req/s, achieved ${median(runs.map((r) => r.rps))
      .toFixed(0)
      .padStart(4)} req/s   p50 ${median(runs.map((r) => r.p50))
      .toFixed(1)
      .padStart(6)} ms   ` +
      `p99 ${median(runs.map((r) => r.p99))
        .toFixed(1)
        .padStart(6)} ms   gateway CPU ${median(runs.map((r) => r.cpuUs))
        .toFixed(0)
        .padStart(5)} µs/request   Redis HMGET/request ~${median(runs.map((r) => r.hmgetsPerRequest)).toFixed(2)}`,
  );
  return median(runs.map((r) => r.cpuUs));
}

const system = await startAuthServices();
try {
  say(`Gateway cost per request (open loop: target ${RATE} req/s over up to ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${ROUNDS} alternating runs;`);
  say("latency from each request's scheduled time; gateway and user service as their own processes; HMGET counts are Redis-wide, so other clients add to them)");
  const { gatewayUrl, gatewayPid } = system;
  await load(gatewayUrl, gatewayPid, '{ __typename }', system.token, 3); // warm-up
  const anonymous: Run[] = [];
  const signedIn: Run[] = [];
  const withSubgraph: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    anonymous.push(await load(gatewayUrl, gatewayPid, '{ __typename }'));
    signedIn.push(await load(gatewayUrl, gatewayPid, '{ __typename }', system.token));
    withSubgraph.push(await load(gatewayUrl, gatewayPid, '{ me { id } }', system.token));
  }
  const a = report('{ __typename } without a token', anonymous);
  const b = report('{ __typename } with a token', signedIn);
  report('{ me { id } } with a token (+ user subgraph)', withSubgraph);
  say(`  checking the token costs ${(b - a).toFixed(0)} µs of gateway CPU per request (${(((b - a) / a) * 100).toFixed(1)} % more than without a token)`);
} finally {
  await system.stop();
}

say();
say('The verifier alone, in this process, one token at a time');
const issuer = createTokenIssuer(generateSigningKeyPem(), { issuer: 'analytica', audience: 'analytica-api', ttlSeconds: 900 });
const newToken = () => issuer.issue({ id: randomUUID(), role: 'USER', sessionId: randomUUID() }, randomUUID());
const redis = createRedis(services.redisUrl, { keyPrefix: `bench-verify-${randomUUID()}:` });
const ROUNDS_IN_PROCESS = 3000;
async function perToken(label: string, revocation: ReturnType<typeof createRevocationList> | undefined, tokens: string[]) {
  const verifier = createTokenVerifier({ jwksUrl: 'bench', issuer: 'analytica', audience: 'analytica-api', fetchJwks: async () => issuer.jwks(), revocation });
  await verifier.verify(newToken());
  const started = process.hrtime.bigint();
  for (const token of tokens) await verifier.verify(token);
  say(`  ${label.padEnd(58)} ${(Number(process.hrtime.bigint() - started) / 1e3 / tokens.length).toFixed(0).padStart(5)} µs`);
}
const same = newToken();
await perToken('a new token: RS256 signature and claims', undefined, Array.from({ length: ROUNDS_IN_PROCESS }, newToken));
await perToken('the same token again (signature checked once, then cached)', undefined, Array(ROUNDS_IN_PROCESS).fill(same));
await perToken('the same token again + revocation lookup (one HMGET)', createRevocationList(redis), Array(ROUNDS_IN_PROCESS).fill(same));
await redis.quit();
