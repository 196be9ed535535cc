// The soak (issue 20, acceptance 4): the whole stack for 30 minutes under a mixed load, every
// process's memory sampled, error rate and p99 per operation per window (a minute by default).
//
//   npx tsx bench/soak/soak.ts [--minutes 30] [--subscribers 2000] [--window 60]
//
// The system runs as `npm run stack` runs it (dev/src/stack-main.ts's options): six subgraphs, two
// gateways behind the NGINX edge (HTTPS), the registry, the console, Prometheus, the log shipper,
// tracing to Zipkin when infra/up.sh started it, the market feed and ingest, the news sources and
// ingest, the bank simulator and the payments, notifications and inference workers; then the demo
// seed. Only where it runs differs: free ports and run-unique prefixes (schemas, Redis keys, Kafka
// topics, tables), and the feed's FEED_ALWAYS_OPEN=true, so that every instrument trades at its
// shipped rate (1 tick/s) whatever the hour: the feed at full rate, not just the venues open now.
//
// The load, all of it open loop (a fixed schedule whatever the answers):
// - subscribers: one WebSocket and one user each, the README's `quotes` subscription on 1-3 symbols,
//   latency from the tick's exchange time (bench/subscriptions' load process); each client renews
//   its access token over the socket every 10 minutes, as a long-lived client does;
// - HTTP through the edge (https, the local CA), as a browser's requests arrive: reads (dashboard,
//   transactions, personal feed, candles) and writes (recordTransaction, initiatePayment), by 12
//   registered users who refresh their sessions (refreshSession) every 10 minutes. All of it comes
//   from one address (127.0.0.1, what NGINX passes on), so it stays under RATE_LIMIT_IP_PER_MINUTE.
//
// Printed: per window, each operation's rate, errors and p50/p99, the subscribers' delivery and
// latency; per process, RSS at the start, after 10 minutes and at the end, its trend over the last
// 20 minutes (least squares) and its CPU; at the end, every payment's final status.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { freePort, gql, uniqueName } from '@analytica/testing';
import { seedDemo } from '@analytica/dev/demo';
import { DEFAULT_PORTS } from '@analytica/dev/processes';
import { startStack } from '@analytica/dev/stack';
import { describeLoad, runLoad, type LoadResult } from '../lib/open-loop.js';
import { startSampler } from '../subscriptions/probe.js';
import { QUERY, endRun, findInfraPids, log, measure, readLoadAverage, sleep, startRun, type Bench, type Measurement, type Options } from '../subscriptions/run.js';
import { benchStackOf, benchSymbols, createEnvironment, isolationEnv, provenance, removeData, removeScratch } from '../subscriptions/services.js';
import { catcherMessages, registerSoakUsers, type SoakUser } from './users.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    subscribers: { type: 'string', default: '2000' },
    window: { type: 'string', default: '60' },
    users: { type: 'string', default: '12' },
  },
});
const whole = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number, not "${value}"`);
  return n;
};
const MINUTES = whole('minutes', values.minutes);
const SUBSCRIBERS = whole('subscribers', values.subscribers);
const WINDOW = whole('window', values.window);
const USERS = whole('users', values.users);
/** Access tokens live ACCESS_TOKEN_TTL_SECONDS (900 by default): everyone renews well before. */
const RENEW_EVERY_MS = 10 * 60_000;
const SAMPLE_EVERY_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// The HTTP operations: what a signed-in user's app asks for, and how often (requests/s in all).

interface Operation {
  name: string;
  rate: number;
  body(user: SoakUser, n: number): unknown;
  /** Whether a 2xx answer without errors is right; the reason if not. */
  check?(data: Record<string, unknown>, user: SoakUser, n: number): string | undefined;
}

const WATCH = ['AAPL', 'MSFT', 'NVDA', 'SAP.DE', 'ASML.AS'];
const operations: Operation[] = [
  {
    name: 'dashboard (me + quotes)',
    rate: 5,
    body: () => ({ query: 'query Dashboard($s: [String!]!) { me { id displayName } quotes(symbols: $s) { symbol last changePercent time } }', variables: { s: WATCH } }),
    check: (data) => ((data.quotes as unknown[] | undefined)?.length === WATCH.length ? undefined : 'quotes missing'),
  },
  {
    name: 'transactions page',
    rate: 3,
    body: () => ({ query: '{ me { transactions(first: 20) { edges { node { id payee amount { amountMinor currency } bookedAt } } } } }' }),
  },
  {
    name: 'personal news feed',
    rate: 2,
    body: () => ({ query: '{ me { myFeed(first: 10) { edges { node { id title } } } } }' }),
  },
  {
    name: 'candles (1m, last hour)',
    rate: 1,
    body: (_user, n) => ({
      query: 'query C($s: String!, $from: DateTimeISO!) { candles(symbol: $s, interval: "1m", from: $from) { start open close } }',
      variables: { s: WATCH[n % WATCH.length], from: new Date(Date.now() - 3_600_000).toISOString() },
    }),
  },
  {
    name: 'recordTransaction',
    rate: 2,
    body: (user, n) => ({
      query: 'mutation R($input: RecordTransactionInput!) { recordTransaction(input: $input) { id } }',
      variables: {
        input: { accountId: user.accountId, amount: { amountMinor: -(100 + (n % 5000)), currency: 'EUR' }, bookedAt: new Date().toISOString(), payee: `Soak shop ${n % 40}` },
      },
    }),
    check: (data) => ((data.recordTransaction as { id?: string } | undefined)?.id ? undefined : 'no transaction id'),
  },
  {
    name: 'initiatePayment',
    rate: 0.25,
    body: (user, n) => ({
      query: 'mutation P($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }',
      variables: {
        input: { bankAccountId: user.bankAccountId, amount: { amountMinor: 100 + (n % 900), currency: 'EUR' }, payeeName: `Soak payee ${n % 10}`, reference: `Soak ${n}` },
        key: randomUUID(),
      },
    }),
    check: (data, user) => {
      const payment = data.initiatePayment as { id?: string } | undefined;
      if (!payment?.id) return 'no payment id';
      user.payments.push(payment.id);
      return undefined;
    },
  },
];

interface OperationWindow {
  /** The window's number, from 0. */
  index: number;
  result: LoadResult;
}

// ---------------------------------------------------------------------------------------------

const env = await createEnvironment(uniqueName('soak'));
const symbols = await benchSymbols();
const options: Options = {
  clients: [SUBSCRIBERS],
  duration: WINDOW,
  warmup: 5,
  grace: 5,
  ramp: 250,
  slowClient: false,
  seed: 42,
  minSymbols: 1,
  maxSymbols: 3,
  keepLogs: false,
  oneStack: true,
  weightedFeed: false,
};
const bench: Bench = { env, options, symbols, feed: { FEED_ALWAYS_OPEN: 'true' }, infraPids: findInfraPids(), active: new Set() };
const cleanups: (() => Promise<unknown>)[] = [];
const cleanup = async () => {
  for (const step of cleanups.reverse()) await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
};
process.once('SIGINT', () => {
  log('interrupted: stopping everything and deleting the data');
  void cleanup().then(() => process.exit(130));
});

const origin = await provenance();
const cpu = os.cpus();
console.log(`# Soak — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpu.length} cores (${cpu[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${readLoadAverage().join(' ')}`,
);
console.log(
  `system: git ${origin.head}${origin.uncommitted.length ? ` + uncommitted ${origin.uncommitted.join(', ')}` : ''}; startStack with npm run stack's options (two gateways behind the NGINX edge, console, Prometheus, log shipper), then the demo seed`,
);
if (origin.inheritedEnv.length) console.log(`DEVIATION: inherited by every service: ${origin.inheritedEnv.join(' ')}`);
console.log(`load: ${SUBSCRIBERS} subscribers (${QUERY}); HTTP ${operations.map((o) => `${o.name} ${o.rate}/s`).join(', ')}; ${MINUTES} minutes, windows of ${WINDOW} s\n`);

let failed = false;
try {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  log(`run ${env.run}: starting the stack`);
  const started = performance.now();
  const stack = await startStack({
    ports,
    schemaPrefix: env.schemaPrefix,
    logDir: env.logDir,
    dataDir: env.dataDir,
    extraGatewayPorts: [await freePort()],
    edgePort: await freePort(),
    console: true,
    prometheusPort: await freePort(),
    env: { ...isolationEnv(env), ...bench.feed },
  });
  // Cleanups run last first: the stack stops, then its data goes.
  cleanups.push(() => removeData(env).then((what) => log(`deleted ${what}`)));
  cleanups.push(() => stack.stop());
  await seedDemo(stack.gatewayUrl);
  const benchStack = benchStackOf(stack, (performance.now() - started) / 1000);
  const pids = benchStack.pids;
  bench.sharedStack = benchStack;
  const edge = stack.edge!;
  const ca = await readFile(edge.caFile);
  log(`stack ready in ${benchStack.startSeconds.toFixed(0)} s; edge ${edge.url}`);

  const users = await registerSoakUsers(stack.gatewayUrl, USERS, env.run);
  log(`${users.length} users registered, each with an account and a verified bank account`);

  const run = await startRun(bench, SUBSCRIBERS);
  cleanups.push(() => endRun({ stack: benchStack, load: run.load, keepStack: true }));
  cleanups.push(async () => bench.counter?.stop());

  const sampler = startSampler({ ...pids, load: run.load.child.pid!, bench: process.pid, ...bench.infraPids }, SAMPLE_EVERY_MS);
  const soakStart = performance.now();
  const soakEnd = soakStart + MINUTES * 60_000;
  /** Minutes since the soak started, to a tenth (windows are numbered from 0; each starts about WINDOW s after the last). */
  const minuteOf = () => Number(((performance.now() - soakStart) / 60_000).toFixed(1));

  // Sessions: the HTTP users refresh through the gateway, the subscribers renew over their sockets.
  const renewals: string[] = [];
  const renewTimer = setInterval(() => {
    void (async () => {
      for (const user of users) {
        const refreshed = await gql(stack.gatewayUrl, 'mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }', {
          variables: { t: user.refreshToken },
        });
        const pair = refreshed.data?.refreshSession as { accessToken: string; refreshToken: string } | undefined;
        if (!pair) throw new Error(`refreshSession failed for ${user.email}: ${JSON.stringify(refreshed.errors)}`);
        Object.assign(user, { token: pair.accessToken, refreshToken: pair.refreshToken });
      }
      // Signing is the bench's own CPU (RS256, about 0.7 ms a token): in slices, so that this
      // process's event loop keeps sending the HTTP load on time meanwhile (2,000 at once held it
      // 1.3 s, and those requests' latency counts from when they were due).
      const renewed: string[] = [];
      for (let i = 0; i < run.tokens.length; i += 50) {
        renewed.push(...run.factory.renew(run.tokens.slice(i, i + 50)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      run.tokens = renewed;
      run.load.send({ type: 'renew', tokens: run.tokens });
      const answer = await run.load.next('renewed', 60_000);
      renewals.push(
        `minute ${minuteOf()}: ${users.length} sessions refreshed; ${answer.renewed}/${answer.sent} subscribers renewed${answer.refused ? `, ${answer.refused} refused (${answer.firstRefusal})` : ''}`,
      );
      log(`  ${renewals.at(-1)}`);
    })().catch((error: unknown) => renewals.push(`minute ${minuteOf()}: renewal failed: ${String(error)}`));
  }, RENEW_EVERY_MS);

  const userOf = (operation: Operation, window: number, i: number) => users[(window * Math.round(operation.rate * WINDOW) + i) % users.length]!;
  // One window after another: every HTTP operation on its own schedule, and the subscribers'
  // measurement over the same time (its window is shorter by the seconds it waits for late messages).
  const httpWindows = new Map<string, OperationWindow[]>(operations.map((o) => [o.name, []]));
  const subscriptionWindows: { index: number; m: Measurement }[] = [];
  while (performance.now() + WINDOW * 1000 <= soakEnd + 5000) {
    const index = subscriptionWindows.length;
    const http = operations.map(async (operation) => {
      const result = await runLoad({
        url: edge.url,
        ca,
        rate: operation.rate,
        seconds: WINDOW,
        connections: 8,
        timeoutMs: 10_000,
        headers: { 'content-type': 'application/json' },
        // Users take turns across windows too, so that each one's share stays even (20 payments per
        // user in 10 minutes is PAYMENT_VELOCITY_MAX).
        request: (i) => {
          const user = userOf(operation, index, i);
          return { headers: { authorization: `Bearer ${user.token}` }, body: JSON.stringify(operation.body(user, i)) };
        },
        validate: operation.check
          ? (body, _status, i) => operation.check!((JSON.parse(body.toString()) as { data: Record<string, unknown> }).data, userOf(operation, index, i), i)
          : undefined,
      });
      httpWindows.get(operation.name)!.push({ index, result });
      if (result.errors)
        log(`  ${operation.name}, window ${index}: ${result.errors} errors ${JSON.stringify(result.errorReasons)} ${JSON.stringify(result.errorSamples).slice(0, 400)}`);
    });
    const m = await measure(bench, run, WINDOW - options.grace - 1);
    await Promise.all(http);
    subscriptionWindows.push({ index, m });
    bench.counter?.trim(Date.now() - 120_000);
    const w = m.window;
    // Which processes used the cores in this window: the samples of its last WINDOW seconds.
    const recent = sampler.samples.slice(-Math.max(1, Math.round((WINDOW * 1000) / SAMPLE_EVERY_MS)));
    const cpuOf = (name: string) => recent.reduce((sum, s) => sum + (s.cpuPercent[name] ?? 0), 0) / recent.length;
    const busiest = Object.keys(recent[0]?.cpuPercent ?? {})
      .map((name) => [name, cpuOf(name)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, percent]) => `${name} ${percent.toFixed(0)}`)
      .join(', ');
    log(`  CPU % of a core in window ${index}: ${busiest}`);
    log(
      `window ${index} (from minute ${(minuteOf() - WINDOW / 60).toFixed(1)}): subscribers ${w.delivered}/${w.expectedFromFeed} delivered, p50 ${w.latencyMs.p50} p99 ${w.latencyMs.p99} ms, lost ${w.lostInWindow}; ` +
        `gateway ${m.usage.gateway?.cpuPercent.toFixed(0)} % CPU ${m.usage.gateway?.rssMbEnd.toFixed(0)} MB; load ${m.loadAverage.map((l) => l.toFixed(1)).join(' ')}`,
    );
  }
  clearInterval(renewTimer);
  const { usage } = sampler.stop();
  log('soak over: checking every payment');

  // Every payment made must have settled (SUCCEEDED, or DECLINED by the bank: never stuck, never lost).
  await sleep(15_000);
  const statuses: Record<string, number> = {};
  let made = 0;
  for (const user of users) {
    const listed = await paymentStatuses(stack.gatewayUrl, user.token);
    for (const id of user.payments) {
      made++;
      const status = listed.get(id) ?? 'MISSING';
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }
  const mails = (await catcherMessages()).length;

  // ---------------------------------------------------------------------------------------------
  // Report

  const first = (list: OperationWindow[]) => list[0]?.result;
  const last = (list: OperationWindow[]) => list.at(-1)?.result;
  const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(1) : n.toFixed(0));
  console.log('\n### Per operation: the first and the last window, and the whole soak\n');
  console.log(
    '| operation | target/s | achieved/s (whole soak) | requests | errors | error rate | p50 first → last window (ms) | p99 first → last window (ms) | worst window p99 (ms) |',
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: |');
  let totalRequests = 0;
  let totalErrors = 0;
  for (const operation of operations) {
    const list = httpWindows.get(operation.name)!;
    const requests = list.reduce((n, w) => n + w.result.sent, 0);
    const errors = list.reduce((n, w) => n + w.result.errors, 0);
    const seconds = list.reduce((n, w) => n + w.result.seconds, 0);
    totalRequests += requests;
    totalErrors += errors;
    const worst = Math.max(...list.map((w) => w.result.latency.p99));
    console.log(
      `| ${operation.name} | ${operation.rate} | ${(list.reduce((n, w) => n + w.result.answered, 0) / seconds).toFixed(2)} | ${requests} | ${errors} | ${((errors / requests) * 100).toFixed(2)} % | ` +
        `${ms(first(list)?.latency.p50)} → ${ms(last(list)?.latency.p50)} | ${ms(first(list)?.latency.p99)} → ${ms(last(list)?.latency.p99)} | ${ms(worst)} |`,
    );
  }
  const subsFirst = subscriptionWindows[0]?.m.window;
  const subsLast = subscriptionWindows.at(-1)?.m.window;
  const delivered = subscriptionWindows.reduce((n, s) => n + s.m.window.delivered, 0);
  const expected = subscriptionWindows.reduce((n, s) => n + s.m.window.expectedFromFeed, 0);
  const lost = subscriptionWindows.reduce((n, s) => n + s.m.window.lostInWindow, 0);
  const measuredSeconds = subscriptionWindows.reduce((n, s) => n + (s.m.window.to - s.m.window.from) / 1000, 0);
  const fromIngest = subscriptionWindows.reduce((n, s) => n + s.m.window.expectedFromIngest, 0);
  const withErrors = subscriptionWindows.reduce((n, s) => n + s.m.window.messagesWithErrors, 0);
  const stats = subscriptionWindows.at(-1)?.m.stats;
  console.log(
    `| quotes subscription (${run.subscribed} subscribers) | ${(expected / measuredSeconds).toFixed(0)} msgs (the feed's ticks) | ${(delivered / measuredSeconds).toFixed(0)} msgs | ${delivered} delivered | ` +
      `${lost} sockets lost, ${withErrors} messages with errors | ${((lost + withErrors) / delivered) * 100 < 0.005 ? '0.00' : (((lost + withErrors) / delivered) * 100).toFixed(2)} % | ` +
      `${ms(subsFirst?.latencyMs.p50)} → ${ms(subsLast?.latencyMs.p50)} | ${ms(subsFirst?.latencyMs.p99)} → ${ms(subsLast?.latencyMs.p99)} | ${ms(Math.max(...subscriptionWindows.map((s) => s.m.window.latencyMs.p99)))} |`,
  );
  console.log(
    `\nsubscribers: ${((delivered / expected) * 100).toFixed(2)} % of the feed's ticks delivered, ${((delivered / fromIngest) * 100).toFixed(2)} % of market-ingest's publishes (a latest-value stream folds ticks: not errors); ` +
      `at the end ${stats?.subscribed ?? '?'} subscribed, ${stats?.lost ?? '?'} lost, ${stats?.subscribeErrors ?? '?'} subscribe errors, close codes ${JSON.stringify(stats?.closeCodes ?? {})}`,
  );
  console.log(`\nHTTP error rate over the soak: ${totalErrors}/${totalRequests} = ${((totalErrors / totalRequests) * 100).toFixed(3)} %`);
  console.log(`payments initiated: ${made}; final statuses: ${JSON.stringify(statuses)}; mails caught by the SMTP catcher (all runs): ${mails}`);
  console.log(`sessions: ${renewals.length ? renewals.join('; ') : 'none renewed (soak shorter than 10 minutes)'}`);

  console.log('\n### Memory per process (RSS, MB) and CPU (% of one core, whole soak)\n');
  console.log('| process | start | after 10 min | end | max | trend over the last 20 min (MB / 10 min) | CPU % |');
  console.log('| --- | --: | --: | --: | --: | --: | --: |');
  const samples = sampler.samples;
  const at = (name: string, t: number) => samples.find((s) => s.t >= t && s.rssMb[name] !== undefined)?.rssMb[name];
  const trendFrom = Math.max(0, MINUTES * 60 - 20 * 60);
  for (const name of Object.keys(usage).sort()) {
    const points = samples.filter((s) => s.t >= trendFrom && s.rssMb[name] !== undefined).map((s) => [s.t, s.rssMb[name]!] as const);
    const slope = leastSquaresSlope(points) * 600;
    const start = samples.find((s) => s.rssMb[name] !== undefined)?.rssMb[name];
    console.log(
      `| ${name} | ${ms(start)} | ${ms(at(name, 600))} | ${ms(usage[name]!.rssMbEnd)} | ${ms(usage[name]!.rssMbMax)} | ${slope >= 0 ? '+' : ''}${slope.toFixed(1)} | ${usage[name]!.cpuPercent.toFixed(0)} |`,
    );
  }

  console.log('\n### Window by window (p99 in ms)\n');
  console.log(`| window | ${operations.map((o) => `${o.name} p99`).join(' | ')} | subscription p99 | delivered | gateway RSS MB | load average |`);
  console.log(`| --: | ${operations.map(() => '--:').join(' | ')} | --: | --: | --: | --- |`);
  for (const { index, m } of subscriptionWindows) {
    const cells = operations.map((o) => ms(httpWindows.get(o.name)!.find((w) => w.index === index)?.result.latency.p99));
    const w = m.window;
    console.log(
      `| ${index} | ${cells.join(' | ')} | ${ms(w.latencyMs.p99)} | ${((w.delivered / Math.max(1, w.expectedFromFeed)) * 100).toFixed(1)} % | ${ms(m.usage.gateway?.rssMbEnd)} | ${m.loadAverage.map((l) => l.toFixed(1)).join(' ')} |`,
    );
  }
  console.log('\nlast window of each operation:');
  for (const operation of operations) console.log(`- ${operation.name}: ${describeLoad(last(httpWindows.get(operation.name)!)!)}`);
} catch (error) {
  failed = true;
  log(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanup();
  if (!failed) await removeScratch(env);
  else log(`logs kept in ${env.logDir}`);
}
process.exit(failed ? 1 : 0);

/** Slope of y over x (MB per second) by least squares; 0 with fewer than two points. */
function leastSquaresSlope(points: readonly (readonly [number, number])[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

/** Every payment of the user and its status, page by page (a soak makes more than one page's worth). */
async function paymentStatuses(gatewayUrl: string, token: string): Promise<Map<string, string>> {
  const PAGE = 'query($after: String) { me { paymentsConnection(first: 100, after: $after) { edges { node { id status } } pageInfo { hasNextPage endCursor } } } }';
  const listed = new Map<string, string>();
  let after: string | null = null;
  do {
    type Page = { edges: { node: { id: string; status: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    const answer: { data?: { me?: { paymentsConnection?: Page } } | null; errors?: unknown } = await gql(gatewayUrl, PAGE, { token, variables: { after } });
    const page: Page | undefined = answer.data?.me?.paymentsConnection;
    if (!page) throw new Error(`listing payments failed: ${JSON.stringify(answer.errors)}`);
    for (const { node } of page.edges) listed.set(node.id, node.status);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return listed;
}
