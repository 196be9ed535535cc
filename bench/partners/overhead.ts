// What partner access costs at the gateway: the same `quotes` query at a constant arrival rate,
// sent by a signed-in user and by a partner app on the market-data contract, against the stack as
// `npm run stack` starts it (dev/src/stack.ts: the registry serving contracts, the gateway polling
// them). A partner's request also spends its app's quota in Redis (one MULTI) and is validated
// against its contract's schema (cached per document); a user's spends the user's budget instead.
// Rounds alternate user / partner so that drift on the machine hits both alike.
//
//   npx tsx bench/partners/overhead.ts
//   BENCH_RATE=500 BENCH_SECONDS=20 BENCH_ROUNDS=3 npx tsx bench/partners/overhead.ts
import { gql, signInAdmin } from '@analytica/testing';
import { DEMO_ADMIN, DEMO_USER } from '@analytica/dev/demo';
import { machineBusySeconds, treeCpuSeconds } from '../market/lib.js';
import { startProfiling, summariseProfile } from '../subscriptions/profile.js';
import { benchSymbols, createEnvironment, provenance, removeData, removeScratch, startBenchStack } from '../subscriptions/services.js';
import { describeLoad, runLoad, type LoadResult } from '../lib/open-loop.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_PROFILE=1: a V8 CPU profile of the gateway over each caller's last round, summarised (the profiler costs the gateway some CPU). */
const PROFILE = process.env.BENCH_PROFILE === '1';
const QUERY = 'query Quotes($symbols: [String!]!) { quotes(symbols: $symbols) { symbol last changePercent time } }';
const say = (line: string) => process.stdout.write(`${line}\n`);

async function must<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const response = await gql(url, query, { variables, token });
  if (response.errors?.length) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(response.errors)}`);
  return response.data as T;
}

async function main() {
  const origin = await provenance();
  const env = await createEnvironment(`bench_partners_${Date.now().toString(36)}`);
  const symbols = (await benchSymbols(20)).slice(0, 10);
  // The request budget per address (1,200 a minute) and per user (600) would refuse a load from one
  // machine at 500 requests/s: both are raised, for the user and the partner alike. The app's own
  // quota is set through the admin API to its maximum.
  const limits = { RATE_LIMIT_IP_PER_MINUTE: '100000000', RATE_LIMIT_USER_PER_MINUTE: '100000000', FEED_SYMBOLS: symbols.join(','), FEED_ALWAYS_OPEN: 'true' };
  say(`git ${origin.head}${origin.uncommitted.length ? ` + uncommitted: ${origin.uncommitted.join(', ')}` : ''}`);
  for (const variable of origin.inheritedEnv) say(`inherited by every service from the shell: ${variable}`);
  say(
    `configuration beyond the defaults: ${Object.entries(limits)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  const bench = await startBenchStack(env, limits);
  try {
    const url = bench.graphqlUrl;
    const userToken = (
      await must<{ login: { accessToken: string } }>(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
        e: DEMO_USER.email,
        p: DEMO_USER.password,
      })
    ).login.accessToken as string;
    const admin = (await signInAdmin(url, DEMO_ADMIN)).accessToken;
    const partner = (
      await must<{ createPartner: { id: string } }>(
        url,
        'mutation($n: String!, $c: String!) { createPartner(name: $n, contract: $c) { id } }',
        { n: 'Bench Robo', c: 'market-data' },
        admin,
      )
    ).createPartner.id as string;
    const app = (
      await must<{ createPartnerApp: { app: { id: string }; clientSecret: string } }>(
        url,
        'mutation($i: CreatePartnerAppInput!) { createPartnerApp(input: $i) { app { id } clientSecret } }',
        { i: { partnerId: partner, name: 'bench', scopes: ['read'], ratePerMinute: 100_000, dailyQuota: 100_000_000, trustedDocumentsOnly: false } },
        admin,
      )
    ).createPartnerApp as { app: { id: string }; clientSecret: string };
    const tokenAnswer = await fetch(new URL('/oauth/token', url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.app.id, client_secret: app.clientSecret }),
    });
    const partnerToken = ((await tokenAnswer.json()) as { access_token: string }).access_token;
    if (!partnerToken) throw new Error(`no partner token: ${tokenAnswer.status}`);

    const body = JSON.stringify({ query: QUERY, variables: { symbols } });
    // Open loop (bench/lib/open-loop.ts): up to 256 kept-alive connections, as before; a 200 without `"errors"` is an answer.
    const run = (token: string, seconds: number) =>
      runLoad({
        url,
        rate: RATE,
        seconds,
        connections: 256,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
    // Both callers' answers must be the same data before anything is timed.
    for (const token of [userToken, partnerToken]) {
      const check = await must<{ quotes: { symbol: string }[] }>(url, QUERY, { symbols }, token);
      if (check.quotes.length !== symbols.length) throw new Error('quotes did not answer every symbol');
    }
    say(`warming up (${RATE} req/s for 5 s each)...`);
    await run(userToken, 5);
    await run(partnerToken, 5);
    // CPU per request of the gateway and of the subgraph the query reaches (market): what each
    // caller costs, whatever else the machine is doing meanwhile.
    const pids = { gateway: bench.pids.gateway!, market: bench.pids.market! };
    type Round = { caller: 'user' | 'partner'; result: LoadResult; gatewayCpuMs: number; marketCpuMs: number };
    const results: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const caller of ['user', 'partner'] as const) {
        const before = { gateway: treeCpuSeconds(pids.gateway), market: treeCpuSeconds(pids.market), machine: machineBusySeconds(), at: performance.now() };
        const profiler = PROFILE && round === ROUNDS ? await startProfiling(pids.gateway) : undefined;
        const result = await run(caller === 'user' ? userToken : partnerToken, SECONDS);
        if (profiler) say(`\ngateway profile, ${caller}:\n${summariseProfile(await profiler.stop(), 25)}\n`);
        const perRequest = (pid: number, was: number) => ((treeCpuSeconds(pid) - was) * 1000) / result.sent;
        const gatewayCpuMs = perRequest(pids.gateway, before.gateway);
        const marketCpuMs = perRequest(pids.market, before.market);
        const machineBusy = ((machineBusySeconds() - before.machine) / ((performance.now() - before.at) / 1000)) * 100;
        results.push({ caller, result, gatewayCpuMs, marketCpuMs });
        say(
          `round ${round} ${caller.padEnd(7)} target ${result.targetRate}/s achieved ${result.achievedRate.toFixed(1)}/s ok ${result.ok}/${result.sent} ` +
            `p50 ${result.latency.p50.toFixed(2)} p90 ${result.latency.p90.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} max ${result.latency.max.toFixed(1)} ms (send lag ≤ ${result.generator.worstSendLagMs.toFixed(1)} ms); ` +
            `CPU gateway ${gatewayCpuMs.toFixed(3)} ms/req, market ${marketCpuMs.toFixed(3)} ms/req; machine busy ${machineBusy.toFixed(0)} % of 200\n    ${describeLoad(result)}`,
        );
      }
    }
    const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const median = (caller: Round['caller'], pick: (r: Round) => number) => middle(results.filter((r) => r.caller === caller).map(pick));
    const line = (label: string, pick: (r: Round) => number, digits: number) => {
      const user = median('user', pick);
      const partnerValue = median('partner', pick);
      say(
        `${label.padEnd(26)}${user.toFixed(digits).padStart(8)}  ${partnerValue.toFixed(digits).padStart(8)}  ${(((partnerValue - user) / user) * 100).toFixed(1).padStart(6)} %`,
      );
    };
    say('\nmedian over rounds            user   partner  partner overhead');
    line('gateway CPU ms/request', (r) => r.gatewayCpuMs, 3);
    line('market CPU ms/request', (r) => r.marketCpuMs, 3);
    for (const key of ['p50', 'p90', 'p99'] as const) line(`${key} latency ms`, (r) => r.result.latency[key], 2);
    const failures = results.reduce((n, r) => n + r.result.errors, 0);
    if (failures) say(`FAILED answers: ${failures} (the figures above include them)`);
  } finally {
    await bench.stack.stop();
    say(`removed ${await removeData(env)}`);
    await removeScratch(env);
  }
}

await main();
