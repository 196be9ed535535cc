// News ingestion at full speed (issue 14, acceptance 4): articles per second from the news-source
// simulator to readers, on the whole stack as `npm run stack` starts it (news-ingest polling every
// source every 2 s with conditional GETs, parsing, deduplicating, enriching and publishing
// news.published.v1 to Kafka; the news subgraph storing each in DynamoDB; readers asking the gateway).
// The simulator's own clock is stopped (NEWS_INTERVAL_MS=0) and each round puts BENCH_STORIES new
// stories out at once through its sandbox, spread over the three healthy sources with every fourth
// story carried by a second source too (to be stored once), each feed listing up to 500 items.
// Measured per round, from the first story out: when news-ingest has published them all (its
// news_ingest_published_total) and when all are readable through the gateway (`articles` paged
// with `since`, polled every BENCH_POLL_MS). The slow and the failing sources stay as shipped, so
// their timeouts and backoff run alongside.
//
//   npx tsx bench/news/ingest.ts
//   BENCH_STORIES=1500 BENCH_ROUNDS=3 npx tsx bench/news/ingest.ts
import { DEMO_USER } from '@analytica/dev/demo';
import { gql } from '@analytica/testing';
import { cpuShares, describeCpu, fmt, machineBusySeconds, say, scrape, stackCpuSeconds } from '../market/lib.js';
import { createEnvironment, provenance, removeData, removeScratch, startBenchStackSaying } from '../subscriptions/services.js';

const STORIES = Number(process.env.BENCH_STORIES ?? 1500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 250);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 300);
const HEALTHY = ['northgate', 'harbour', 'ledger'] as const;
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'JPM', 'SAP.DE', 'ASML.AS', 'NESN.SW', 'HSBA.L'];
const MOVES = [
  'beats estimates as revenue climbs',
  'cuts guidance after a weak quarter',
  'shares slide on regulatory probe',
  'announces record buyback',
  'holds steady ahead of earnings',
];
const FEED_SIZE = 500;

async function main() {
  const origin = await provenance();
  say(`news ingestion benchmark: git ${origin.head}${origin.uncommitted.length ? ` + uncommitted: ${origin.uncommitted.join(', ')}` : ''}`);
  if (STORIES > FEED_SIZE * HEALTHY.length) throw new Error(`BENCH_STORIES at most ${FEED_SIZE * HEALTHY.length}: each feed lists ${FEED_SIZE} items`);
  const env = await createEnvironment(`bench_news_${Date.now().toString(36)}`);
  const settings = { NEWS_INTERVAL_MS: '0', NEWS_FEED_SIZE: String(FEED_SIZE), RATE_LIMIT_IP_PER_MINUTE: '100000000', RATE_LIMIT_USER_PER_MINUTE: '100000000' };
  const bench = await startBenchStackSaying(env, settings);
  const rates: { published: number; readable: number }[] = [];
  try {
    say(`stack ready in ${fmt(bench.startSeconds, 1)} s`);
    const simulator = bench.stack.services.get('news-sources')!.url;
    const ingestMetrics = bench.stack.services.get('news-ingest')!.metricsUrl;
    // A reader: the demo user, signed in through the gateway (articles are for signed-in users).
    const login = await gql(bench.graphqlUrl, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
      variables: { e: DEMO_USER.email, p: DEMO_USER.password },
    });
    const token = (login.data as { login?: { accessToken: string } } | undefined)?.login?.accessToken;
    if (!token) throw new Error(`the demo user could not sign in: ${JSON.stringify(login.errors)}`);
    const published = async () => [...(await scrape(ingestMetrics)).entries()].filter(([k]) => k.startsWith('news_ingest_published_total')).reduce((n, [, v]) => n + v, 0);

    for (let round = 1; round <= ROUNDS; round++) {
      const tag = `[${env.run} r${round}]`;
      const publishedBefore = await published();
      const cpuBefore = stackCpuSeconds(bench.pids);
      const busyBefore = machineBusySeconds();
      const since = new Date(Date.now() - 60_000).toISOString();
      const started = performance.now();
      // Out at once: a few in flight at a time, as fast as the simulator takes them.
      for (let start = 0; start < STORIES; start += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, STORIES - start) }, async (_, k) => {
            const n = start + k;
            const symbol = SYMBOLS[n % SYMBOLS.length]!;
            const sources = n % 4 === 3 ? [HEALTHY[n % 3]!, HEALTHY[(n + 1) % 3]!] : [HEALTHY[n % 3]!];
            const response = await fetch(`${simulator}/sandbox/stories`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ title: `${symbol} ${MOVES[n % MOVES.length]} ${tag} #${n}`, symbols: [symbol], sources, syndicated: n % 8 === 7 }),
            });
            if (response.status !== 201) throw new Error(`the simulator refused story ${n}: ${response.status} ${await response.text()}`);
          }),
        );
      }
      const outSeconds = (performance.now() - started) / 1000;
      let publishedSeconds = NaN;
      let readableSeconds = NaN;
      let readable = 0;
      while (Number.isNaN(readableSeconds)) {
        const elapsed = (performance.now() - started) / 1000;
        if (elapsed > TIMEOUT_S) throw new Error(`round ${round}: after ${TIMEOUT_S} s, ${(await published()) - publishedBefore} published and ${readable} of ${STORIES} readable`);
        if (Number.isNaN(publishedSeconds) && (await published()) - publishedBefore >= STORIES) publishedSeconds = (performance.now() - started) / 1000;
        readable = await countReadable(bench.graphqlUrl, token, since, tag);
        if (readable >= STORIES) readableSeconds = (performance.now() - started) / 1000;
        else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      if (Number.isNaN(publishedSeconds)) publishedSeconds = readableSeconds;
      const cpu = cpuShares(cpuBefore, stackCpuSeconds(bench.pids), readableSeconds);
      const busy = machineBusySeconds() - busyBefore;
      rates.push({ published: STORIES / publishedSeconds, readable: STORIES / readableSeconds });
      say(
        `round ${round}: ${STORIES} stories out in ${fmt(outSeconds, 2)} s (${STORIES / 4} of them on two sources); all published by news-ingest after ${fmt(publishedSeconds, 2)} s ` +
          `(${fmt(STORIES / publishedSeconds, 1)} articles/s), all readable through the gateway after ${fmt(readableSeconds, 2)} s (${fmt(STORIES / readableSeconds, 1)} articles/s)`,
      );
      say(`  CPU (100% = one core) over the round: ${describeCpu(cpu, (busy / readableSeconds) * 100)}`);
      const ingest = cpu.find((p) => p.name === 'news-ingest');
      if (ingest) say(`  news-ingest CPU per article: ${fmt((ingest.percent * 10 * readableSeconds) / STORIES, 3)} ms`);
    }
  } finally {
    await bench.stack.stop();
    say(`removed ${await removeData(env)}`);
    await removeScratch(env);
  }
  const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  say(
    `median of ${rates.length} rounds: ${fmt(middle(rates.map((r) => r.published)), 1)} articles/s published, ${fmt(middle(rates.map((r) => r.readable)), 1)} articles/s readable`,
  );
}

/** Articles published since `since` whose title carries `tag`, paged through the gateway as any reader does. */
async function countReadable(url: string, token: string, since: string, tag: string): Promise<number> {
  let count = 0;
  let after: string | null = null;
  for (;;) {
    const answer: { data?: unknown; errors?: unknown[] } = await gql(
      url,
      'query($since: DateTimeISO, $after: String) { articles(filter: { since: $since }, sort: RECENT, first: 50, after: $after) { edges { node { title } } pageInfo { hasNextPage endCursor } } }',
      { variables: { since, after }, token },
    );
    if (answer.errors?.length) throw new Error(`articles: ${JSON.stringify(answer.errors).slice(0, 300)}`);
    type Page = { edges: { node: { title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    const page: Page = (answer.data as { articles: Page }).articles;
    count += page.edges.filter((e) => e.node.title.includes(tag)).length;
    if (!page.pageInfo.hasNextPage) return count;
    after = page.pageInfo.endCursor;
  }
}

try {
  await main();
} catch (error) {
  say(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
