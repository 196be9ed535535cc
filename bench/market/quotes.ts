// Latency of `quotes(symbols: [20 symbols])` through the gateway at a fixed request rate (issue 18,
// acceptance 2), on the whole stack as `npm run stack` starts it (bench/subscriptions/services.ts
// startBenchStack: the committed supergraph, every service its own process, the feed trading every
// instrument at its shipped rate through Kafka and market-ingest, FEED_ALWAYS_OPEN so that it does
// on any day). The caller is the demo user, signed in through the gateway. The open-loop generator
// (bench/lib/open-loop.ts) sends at BENCH_RATE requests/s on a fixed schedule over up to
// BENCH_CONNECTIONS kept-alive connections, latency from each request's scheduled time
// (coordinated omission corrected), for BENCH_SECONDS after a warm-up; target and achieved rates,
// the latencies and every process's CPU are printed, and everything stops.
//
//   npx tsx bench/market/quotes.ts
//   BENCH_RATE=500 BENCH_SECONDS=60 BENCH_ROUNDS=3 npx tsx bench/market/quotes.ts
//   BENCH_PROFILE=gateway npx tsx bench/market/quotes.ts   (a CPU profile of the gateway over the
//     rounds, saved in the temporary folder and summarised; the profiler costs it some CPU, so the figures
//     of such a run are printed as profiled)
import os from 'node:os';
import { gql } from '@analytica/testing';
import { DEMO_USER } from '@analytica/dev/demo';
import { describeLoad, runLoad, type LoadResult } from '../lib/open-loop.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startProfiling, summariseProfile } from '../subscriptions/profile.js';
import { createEnvironment, provenance, removeData, removeScratch, startBenchStackSaying } from '../subscriptions/services.js';
import { cpuShares, describeCpu, fmt, machineBusySeconds, say, stackCpuSeconds } from './lib.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
// The pool: enough connections that the rate, not the number of requests in flight, sets the pace
// (a request due while all are busy waits, and its wait counts).
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SYMBOLS = [
  'AAPL',
  'MSFT',
  'NVDA',
  'AMZN',
  'GOOGL',
  'META',
  'TSLA',
  'JPM',
  'V',
  'SAP.DE',
  'ASML.AS',
  'NESN.SW',
  'HSBA.L',
  'MC.PA',
  'SIE.DE',
  '7203.T',
  '0700.HK',
  'BHP.AX',
  'WMT',
  'MA',
];
const PROFILE = process.env.BENCH_PROFILE;
const QUERY = 'query Quotes($symbols: [String!]!) { quotes(symbols: $symbols) { id symbol last bid ask change changePercent volume time marketState stale } }';

async function main() {
  const origin = await provenance();
  say(`quotes benchmark: git ${origin.head}${origin.uncommitted.length ? ` + uncommitted: ${origin.uncommitted.join(', ')}` : ''} (${os.cpus().length} cores)`);
  for (const variable of origin.inheritedEnv) say(`inherited by every service from the shell: ${variable}`);
  const env = await createEnvironment(`bench_quotes_${Date.now().toString(36)}`);
  // Everything comes from one address and one user here, far beyond the per-address and per-user
  // request budgets: both raised through their documented variables, nothing else changed.
  const settings = { FEED_ALWAYS_OPEN: 'true', RATE_LIMIT_IP_PER_MINUTE: '100000000', RATE_LIMIT_USER_PER_MINUTE: '100000000' };
  const bench = await startBenchStackSaying(env, settings);
  const results: LoadResult[] = [];
  try {
    say(`stack ready in ${fmt(bench.startSeconds, 1)} s`);
    const url = bench.graphqlUrl;
    const login = await gql(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
      variables: { e: DEMO_USER.email, p: DEMO_USER.password },
    });
    const token = (login.data as { login?: { accessToken: string } } | undefined)?.login?.accessToken;
    if (!token) throw new Error(`the demo user could not sign in: ${JSON.stringify(login.errors)}`);
    const body = JSON.stringify({ query: QUERY, variables: { symbols: SYMBOLS } });
    const request = { url, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body };
    const sample = await gql(url, QUERY, { variables: { symbols: SYMBOLS }, token });
    const quotes = (sample.data as { quotes?: { symbol: string; last: number | null }[] } | undefined)?.quotes;
    if (sample.errors || quotes?.length !== SYMBOLS.length) throw new Error(`unexpected answer: ${JSON.stringify(sample).slice(0, 300)}`);
    const prefixBytes = Buffer.from('{"data":{"quotes":[');
    const validate = (text: Buffer) => (text.subarray(0, prefixBytes.length).equals(prefixBytes) && !text.includes('"errors"') ? undefined : 'not a whole quotes answer');

    say(`warm-up: ${WARMUP} s at ${RATE} requests/s`);
    say(`  ${describeLoad(await runLoad({ ...request, connections: CONNECTIONS, rate: RATE, seconds: WARMUP, validate }))}`);

    const read = () => stackCpuSeconds(bench.pids);
    if (PROFILE && !bench.pids[PROFILE]) throw new Error(`BENCH_PROFILE=${PROFILE}: no such process (${Object.keys(bench.pids).join(', ')})`);
    const profiler = PROFILE ? await startProfiling(bench.pids[PROFILE]!) : undefined;
    if (PROFILE) say(`DEVIATION: ${PROFILE} runs under V8's sampling profiler: its figures below include the profiler's cost`);
    for (let round = 1; round <= ROUNDS; round++) {
      const cpuBefore = read();
      const busyBefore = machineBusySeconds();
      say(`round ${round}: ${SECONDS} s at ${RATE} requests/s, 20 symbols per request, the feed trading every instrument`);
      const result = await runLoad({ ...request, connections: CONNECTIONS, rate: RATE, seconds: SECONDS, timeoutMs: 10_000, validate });
      const cpuAfter = read();
      const busy = machineBusySeconds() - busyBefore;
      results.push(result);
      say(
        `  RESULT quotes(20 symbols) through the gateway, target ${RATE} req/s, achieved ${fmt(result.achievedRate, 1)} req/s (${fmt((result.achievedRate / RATE) * 100, 1)} %): ` +
          `p50 ${fmt(result.latency.p50, 1)} ms, p90 ${fmt(result.latency.p90, 1)} ms, p99 ${fmt(result.latency.p99, 1)} ms, max ${fmt(result.latency.max)} ms (from each request's scheduled time)`,
      );
      say(`  sent ${fmt(result.sent)}, answered ${fmt(result.answered)}, errors ${result.errors}${result.errors ? ` (${JSON.stringify(result.errorReasons)})` : ''}`);
      say(`  ${describeLoad(result)}`);
      const cpu = cpuShares(cpuBefore, cpuAfter, result.seconds);
      say(`  CPU (100% = one core): ${describeCpu(cpu, (busy / result.seconds) * 100)}`);
      const gateway = cpu.find((p) => p.name === 'gateway');
      if (gateway) say(`  gateway CPU per request: ${fmt((gateway.percent * 10) / result.achievedRate, 3)} ms`);
    }
    if (profiler) {
      const profile = await profiler.stop();
      const file = path.join(os.tmpdir(), `${env.run}-${PROFILE}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      say(`\n${PROFILE}'s CPU profile over the rounds (saved as ${file}):`);
      say(summariseProfile(profile, 25));
    }
  } finally {
    await bench.stack.stop();
    say(`removed ${await removeData(env)}`);
    await removeScratch(env);
  }
  if (results.length > 1) {
    const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    say(
      `median of ${results.length} rounds: achieved ${fmt(middle(results.map((r) => r.achievedRate)), 1)} req/s, p50 ${fmt(middle(results.map((r) => r.latency.p50)), 1)} ms, ` +
        `p99 ${fmt(middle(results.map((r) => r.latency.p99)), 1)} ms, errors ${results.reduce((n, r) => n + r.errors, 0)}`,
    );
  }
}

try {
  await main();
} catch (error) {
  say(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
