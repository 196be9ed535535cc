// What observability costs the gateway (issue 16, acceptance 4): a signed-in user's `me` + `quotes`
// query at a constant arrival rate (open loop, bench/lib/open-loop.ts) against the stack as
// `npm run stack` starts it (dev/src/stack.ts), with and without observability:
//
//   off: no tracing; logs written to files (as every deployment writes them somewhere) and not shipped;
//   on:  every process traced to Zipkin (infra/zipkin, packages/telemetry), and its log files
//        tailed into the central store by the log shipper.
//
// BENCH_COMPARE=tracing keeps the shipper in both arms, so that tracing alone differs. Tracing is chosen when a process starts, so each round starts a stack of its own; the
// arms alternate (off on, on off, ...) so that drift on the machine hits both alike. Printed per
// round and as medians: target and achieved rate, gateway p50/p90/p99, the gateway's CPU per
// request, and the overhead of `on` over `off`.
//
//   npx tsx bench/observability/overhead.ts
//   BENCH_RATE=500 BENCH_SECONDS=20 BENCH_ROUNDS=3 npx tsx bench/observability/overhead.ts
//   BENCH_SECONDS=5 BENCH_ROUNDS=1 BENCH_WARMUP=2 npx tsx bench/observability/overhead.ts   (smoke)
import path from 'node:path';
import { freePort, gql } from '@analytica/testing';
import { DEMO_USER, seedDemo } from '@analytica/dev/demo';
import { DEFAULT_PORTS } from '@analytica/dev/processes';
import { startStack, type RunningStack } from '@analytica/dev/stack';
import { machineBusySeconds, sharedServerCpuSeconds, treeCpuSeconds } from '../market/lib.js';
import { benchSymbols, createEnvironment, isolationEnv, provenance, removeData, removeScratch, type BenchEnvironment } from '../subscriptions/services.js';
import { describeLoad, runLoad, type LoadResult } from '../lib/open-loop.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const COMPARE = process.env.BENCH_COMPARE === 'tracing' ? 'tracing' : 'all';
const QUERY = 'query MeAndQuotes($symbols: [String!]!) { me { id displayName } quotes(symbols: $symbols) { symbol last changePercent } }';
const say = (line: string) => process.stdout.write(`${line}\n`);

type Arm = 'off' | 'on';
interface Round {
  arm: Arm;
  result: LoadResult;
  gatewayCpuMs: number;
  machineBusy: number;
  /** CPU ms per request of each process of the stack and of the shared servers it writes to. */
  cpuMsPerRequest: Record<string, number>;
}

/**
 * CPU seconds so far of every process the arms may differ in: the stack's own (each with its
 * children) and the shared servers (PostgreSQL's backends together, Zipkin, Redis), so that the
 * whole cost of observability shows, wherever it lands.
 */
function cpuByProcess(stack: RunningStack): Record<string, number> {
  const totals: Record<string, number> = {};
  // A process the arm stopped (the `off` arm's log shipper) is left out: it used nothing.
  for (const [name, service] of stack.services) {
    const seconds = service.child.pid && service.child.exitCode === null && service.child.signalCode === null ? treeCpuSeconds(service.child.pid) : NaN;
    if (Number.isFinite(seconds)) totals[name] = seconds;
  }
  return { ...totals, ...sharedServerCpuSeconds() };
}

async function must<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const response = await gql(url, query, { variables, token });
  if (response.errors?.length) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(response.errors)}`);
  return response.data as T;
}

/** One stack for one arm: `on` traces every process and ships its logs; `off` does neither (BENCH_COMPARE=tracing: ships in both). */
async function startArm(env: BenchEnvironment, arm: Arm, round: number, limits: Record<string, string>): Promise<RunningStack> {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  // Always log to files: without a folder the stack pipes every line through this process, the load generator's.
  const stack = await startStack({
    ports,
    schemaPrefix: env.schemaPrefix,
    dataDir: env.dataDir,
    logDir: path.join(env.logDir, `round-${round}-${arm}`),
    // `on` requires Zipkin (the start fails without it); `off` never traces, whatever answers.
    tracing: arm === 'on',
    env: { ...isolationEnv(env), ...limits },
  });
  try {
    // The stack ships logs whenever it writes them to files; the `off` arm stops the shipper.
    if (arm === 'off' && COMPARE === 'all' && stack.services.has('log-shipper')) await stack.stopService('log-shipper');
    await seedDemo(stack.gatewayUrl);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

async function measure(env: BenchEnvironment, arm: Arm, round: number, limits: Record<string, string>, symbols: string[]): Promise<Round> {
  const stack = await startArm(env, arm, round, limits);
  try {
    const url = stack.gatewayUrl;
    const { login } = await must<{ login: { accessToken: string } }>(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
      e: DEMO_USER.email,
      p: DEMO_USER.password,
    });
    const check = await must<{ me: { id: string }; quotes: unknown[] }>(url, QUERY, { symbols }, login.accessToken);
    if (!check.me || check.quotes.length !== symbols.length) throw new Error(`the query did not answer the user and every symbol: ${JSON.stringify(check).slice(0, 200)}`);
    const body = JSON.stringify({ query: QUERY, variables: { symbols } });
    const run = (seconds: number) =>
      runLoad({ url, rate: RATE, seconds, connections: 256, headers: { 'content-type': 'application/json', authorization: `Bearer ${login.accessToken}` }, body });
    if (WARMUP > 0) await run(WARMUP);
    const gatewayPid = stack.services.get('gateway')!.child.pid!;
    const before = { gateway: treeCpuSeconds(gatewayPid), machine: machineBusySeconds(), at: performance.now(), processes: cpuByProcess(stack) };
    const result = await run(SECONDS);
    const gatewayCpuMs = ((treeCpuSeconds(gatewayPid) - before.gateway) * 1000) / Math.max(1, result.sent);
    const machineBusy = ((machineBusySeconds() - before.machine) / ((performance.now() - before.at) / 1000)) * 100;
    const after = cpuByProcess(stack);
    const cpuMsPerRequest = Object.fromEntries(
      Object.keys(after)
        .filter((name) => before.processes[name] !== undefined)
        .map((name) => [name, ((after[name]! - before.processes[name]!) * 1000) / Math.max(1, result.sent)]),
    );
    return { arm, result, gatewayCpuMs, machineBusy, cpuMsPerRequest };
  } finally {
    await stack.stop();
    await removeData(env);
  }
}

async function main() {
  const origin = await provenance();
  const env = await createEnvironment(`bench_obs_${Date.now().toString(36)}`);
  const symbols = (await benchSymbols(10)).slice(0, 10);
  // One machine at 500 requests/s would exceed the per-address and per-user request budgets: both are raised in both arms.
  const limits = { RATE_LIMIT_IP_PER_MINUTE: '100000000', RATE_LIMIT_USER_PER_MINUTE: '100000000', FEED_SYMBOLS: symbols.join(','), FEED_ALWAYS_OPEN: 'true', LOG_LEVEL: 'info' };
  say(`git ${origin.head}${origin.uncommitted.length ? ` + uncommitted: ${origin.uncommitted.join(', ')}` : ''}`);
  for (const variable of origin.inheritedEnv) say(`inherited by every service from the shell: ${variable}`);
  say(
    `${RATE} req/s for ${SECONDS} s per arm after ${WARMUP} s of warm-up, ${ROUNDS} round(s), comparing ${COMPARE === 'tracing' ? 'tracing alone (logs shipped in both)' : 'tracing + log shipping against neither'}`,
  );
  const rounds: Round[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // ABBA: off then on in odd rounds, on then off in even ones.
      const order: Arm[] = round % 2 === 1 ? ['off', 'on'] : ['on', 'off'];
      for (const arm of order) {
        const r = await measure(env, arm, round, limits, symbols);
        rounds.push(r);
        say(
          `round ${round} ${arm.padEnd(3)} target ${r.result.targetRate}/s achieved ${r.result.achievedRate.toFixed(1)}/s ok ${r.result.ok}/${r.result.sent} ` +
            `p50 ${r.result.latency.p50.toFixed(2)} p90 ${r.result.latency.p90.toFixed(2)} p99 ${r.result.latency.p99.toFixed(2)} ms; ` +
            `gateway CPU ${r.gatewayCpuMs.toFixed(3)} ms/req; machine busy ${r.machineBusy.toFixed(0)} % of 200\n    ${describeLoad(r.result)}`,
        );
      }
    }
  } finally {
    await removeScratch(env);
  }
  const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const median = (arm: Arm, pick: (r: Round) => number) => middle(rounds.filter((r) => r.arm === arm).map(pick));
  say('\nmedian over rounds               off        on   on over off');
  const line = (label: string, pick: (r: Round) => number, digits: number) => {
    const off = median('off', pick);
    const on = median('on', pick);
    say(`${label.padEnd(26)}${off.toFixed(digits).padStart(9)} ${on.toFixed(digits).padStart(9)}  ${(((on - off) / off) * 100).toFixed(1).padStart(8)} %`);
  };
  line('achieved rate /s', (r) => r.result.achievedRate, 1);
  for (const key of ['p50', 'p90', 'p99'] as const) line(`gateway ${key} latency ms`, (r) => r.result.latency[key], 2);
  line('gateway CPU ms/request', (r) => r.gatewayCpuMs, 3);
  line('machine busy % of 200', (r) => r.machineBusy, 0);
  // Where the rest of the difference went: each process's CPU per request, busiest first.
  say('\nCPU ms per request, median over rounds   off        on   on minus off');
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r.cpuMsPerRequest)))];
  const rows = names.map((name) => {
    const pick = (r: Round) => r.cpuMsPerRequest[name] ?? 0;
    return { name, off: median('off', pick), on: median('on', pick) };
  });
  for (const row of rows.sort((a, b) => Math.max(b.on, b.off) - Math.max(a.on, a.off)).filter((r) => Math.max(r.on, r.off) >= 0.005)) {
    say(`${row.name.padEnd(34)}${row.off.toFixed(3).padStart(9)} ${row.on.toFixed(3).padStart(9)}  ${(row.on - row.off >= 0 ? '+' : '') + (row.on - row.off).toFixed(3)}`);
  }
  const failures = rounds.reduce((n, r) => n + r.result.errors, 0);
  if (failures) say(`FAILED answers: ${failures} (the figures above include them)`);
}

await main();
