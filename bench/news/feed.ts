// `myFeed` through the gateway at a fixed request rate (issue 14, acceptance 4), on the whole stack
// as `npm run stack` starts it (bench/subscriptions/services.ts startBenchStack: the committed
// supergraph, every service its own process, news-ingest polling the news-source simulator). BENCH_USERS
// users are registered through the gateway, and each gives the ranker something of its own to
// work with: a watchlist of 1-3 symbols, a followed topic and symbol, two liked and three read
// articles. Request i is user i mod BENCH_USERS's `me { myFeed(first: 20) }`, so consecutive
// requests are different people's feeds and none can be shared. Open loop (bench/lib/open-loop.ts):
// a constant BENCH_RATE requests/s, latency from each request's scheduled time; target and
// achieved rates, latencies and every process's CPU are printed, and everything stops.
//
//   npx tsx bench/news/feed.ts
//   BENCH_RATE=200 BENCH_SECONDS=60 BENCH_ROUNDS=3 BENCH_USERS=200 npx tsx bench/news/feed.ts
import { gql } from '@analytica/testing';
import { describeLoad, runLoad, type LoadResult } from '../lib/open-loop.js';
import { cpuShares, describeCpu, fmt, machineBusySeconds, say, stackCpuSeconds } from '../market/lib.js';
import { createEnvironment, provenance, removeData, removeScratch, startBenchStackSaying } from '../subscriptions/services.js';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const USERS = Number(process.env.BENCH_USERS ?? 100);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'JPM', 'SAP.DE', 'ASML.AS', 'NESN.SW', 'HSBA.L', '7203.T', 'BTC-USD'];
const TOPICS = ['earnings', 'markets', 'technology', 'banking', 'energy', 'crypto'];
const FEED = 'query Feed { me { id myFeed(first: 20) { edges { node { id title publishedAt sentiment symbols topics } } pageInfo { hasNextPage endCursor } } } }';

type Answer = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
const must = (answer: Answer, what: string) => {
  if (answer.errors?.length || !answer.data) throw new Error(`${what}: ${JSON.stringify(answer.errors ?? answer).slice(0, 300)}`);
  return answer.data;
};

async function main() {
  const origin = await provenance();
  say(`myFeed benchmark: git ${origin.head}${origin.uncommitted.length ? ` + uncommitted: ${origin.uncommitted.join(', ')}` : ''}`);
  for (const variable of origin.inheritedEnv) say(`inherited by every service from the shell: ${variable}`);
  const env = await createEnvironment(`bench_feed_${Date.now().toString(36)}`);
  // One machine registers every user and sends everything from one address: the per-address and
  // per-user budgets and registrations per address raised through their documented variables.
  const settings = { RATE_LIMIT_IP_PER_MINUTE: '100000000', RATE_LIMIT_USER_PER_MINUTE: '100000000', REGISTRATIONS_PER_IP_PER_HOUR: '100000' };
  const bench = await startBenchStackSaying(env, settings);
  const results: LoadResult[] = [];
  try {
    say(`stack ready in ${fmt(bench.startSeconds, 1)} s`);
    const url = bench.graphqlUrl;
    const tokens = await registerReaders(url);

    const validate = (text: Buffer) => {
      const answer = JSON.parse(text.toString('utf8')) as Answer;
      const feed = (answer.data?.me as { myFeed?: { edges: unknown[] } } | undefined)?.myFeed;
      return !answer.errors && feed && feed.edges.length > 0 ? undefined : 'not a feed with articles';
    };
    const body = JSON.stringify({ query: FEED });
    const load = (seconds: number) =>
      runLoad({
        url,
        connections: CONNECTIONS,
        rate: RATE,
        seconds,
        timeoutMs: 10_000,
        headers: { 'content-type': 'application/json' },
        request: (i) => ({ headers: { authorization: `Bearer ${tokens[i % tokens.length]}` }, body }),
        validate,
      });

    say(`warm-up: ${WARMUP} s at ${RATE} requests/s`);
    say(`  ${describeLoad(await load(WARMUP))}`);
    for (let round = 1; round <= ROUNDS; round++) {
      const cpuBefore = stackCpuSeconds(bench.pids);
      const busyBefore = machineBusySeconds();
      say(`round ${round}: ${SECONDS} s at ${RATE} requests/s, ${USERS} readers in turn`);
      const result = await load(SECONDS);
      const cpu = cpuShares(cpuBefore, stackCpuSeconds(bench.pids), result.seconds);
      const busy = machineBusySeconds() - busyBefore;
      results.push(result);
      say(
        `  RESULT myFeed(first: 20) through the gateway, target ${RATE} req/s, achieved ${fmt(result.achievedRate, 1)} req/s (${fmt((result.achievedRate / RATE) * 100, 1)} %): ` +
          `p50 ${fmt(result.latency.p50, 1)} ms, p90 ${fmt(result.latency.p90, 1)} ms, p99 ${fmt(result.latency.p99, 1)} ms, max ${fmt(result.latency.max)} ms (from each request's scheduled time)`,
      );
      say(`  sent ${fmt(result.sent)}, answered ${fmt(result.answered)}, errors ${result.errors}${result.errors ? ` (${JSON.stringify(result.errorReasons)})` : ''}`);
      say(`  ${describeLoad(result)}`);
      say(`  CPU (100% = one core): ${describeCpu(cpu, (busy / result.seconds) * 100)}`);
      for (const name of ['gateway', 'news', 'market']) {
        const share = cpu.find((p) => p.name === name);
        if (share) say(`  ${name} CPU per request: ${fmt((share.percent * 10) / result.achievedRate, 3)} ms`);
      }
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

/** BENCH_USERS readers, each with a watchlist, follows, likes and reads of their own; their tokens. */
async function registerReaders(url: string): Promise<string[]> {
  const started = performance.now();
  let articleIds: string[] | undefined;
  const run = Date.now().toString(36);
  const tokens: string[] = [];
  const pick = <T>(list: T[], n: number, seed: number) => Array.from({ length: n }, (_, k) => list[(seed * 7 + k * 13) % list.length]!);
  // A few at a time: each registration is an argon2id hash on the user service.
  for (let start = 0; start < USERS; start += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, USERS - start) }, async (_, k) => {
        const n = start + k;
        const registered = must(
          await gql(url, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
            variables: { i: { email: `reader-${run}-${n}@bench.analytica.dev`, password: `reader-password-${run}`, displayName: `Reader ${n}`, homeCurrency: 'EUR' } },
          }),
          'register',
        );
        const token = (registered.register as { accessToken: string }).accessToken;
        const act = async (query: string, variables: Record<string, unknown>) => must(await gql(url, query, { variables, token }), query.split('(')[0]!);
        // The articles there are to like and read (for signed-in readers), read once by the first.
        articleIds ??= ((await act('query { articles(first: 50, sort: RECENT) { edges { node { id } } } }', {})).articles as { edges: { node: { id: string } }[] }).edges.map(
          (e) => e.node.id,
        );
        if (articleIds.length < 10) throw new Error(`only ${articleIds.length} articles to read`);
        for (const symbol of pick(SYMBOLS, 1 + (n % 3), n)) await act('mutation($s: String!) { addToWatchlist(symbol: $s) { symbol } }', { s: symbol });
        await act('mutation($t: String!) { followNewsTopic(topic: $t) { topics } }', { t: TOPICS[n % TOPICS.length] });
        await act('mutation($s: String!) { followNewsSymbol(symbol: $s) { symbols } }', { s: SYMBOLS[(n + 5) % SYMBOLS.length] });
        for (const id of pick(articleIds, 2, n)) await act('mutation($id: ID!) { likeArticle(id: $id) { id } }', { id });
        for (const id of pick(articleIds, 3, n + 1)) await act('mutation($id: ID!) { recordArticleView(id: $id) { id } }', { id });
        tokens[n] = token;
      }),
    );
  }
  say(`${USERS} readers registered through the gateway, each with a watchlist, follows, likes and reads, in ${fmt((performance.now() - started) / 1000, 1)} s`);
  return tokens;
}

try {
  await main();
} catch (error) {
  say(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
