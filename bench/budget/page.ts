// Filtered transactions page through the gateway (issue 4, acceptance 5b).
//
//   npx tsx bench/budget/page.ts [--rates 25,50,100] [--duration 20] [--transactions 20000]
//
// Starts, in this process, the budget service on its own PostgreSQL schema, a stand-in user
// subgraph (me, homeCurrency) and the real gateway composed over both; seeds one user with
// --transactions transactions over three accounts (imported, categorised by rules, a third of them
// tagged). Then, for each rate, the open-loop generator (bench/lib/open-loop.ts) sends the same
// filtered page query at that fixed rate, on a schedule, over up to --connections kept-alive
// connections, for --duration seconds, and the latencies from each request's scheduled time are
// printed: p50, p90, p99 and max, with target and achieved rates and any errors. Everything started
// is stopped and the schema dropped.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { openAccount } from '@analytica/budget-subgraph/accounts';
import { listCategories } from '@analytica/budget-subgraph/categories';
import { importStatement } from '@analytica/budget-subgraph/imports';
import { createRule } from '@analytica/budget-subgraph/rules';
import { csvExport } from '@analytica/budget-subgraph/statement-samples';
import { gql } from '@analytica/testing';
// The harness the budget's gateway tests use (it starts the gateway, so it lives in the root test/).
import { startHarness } from '../../test/integration/budget-harness.js';
import { runLoad } from '../lib/open-loop.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '25,50,100' },
    duration: { type: 'string', default: '20' },
    transactions: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '20' },
  },
});
const rates = values.rates.split(',').map(Number);
const duration = Number(values.duration);
const total = Number(values.transactions);

const harness = await startHarness();
const rows: Record<string, string>[] = [];
try {
  const ada = harness.person('USER', 'EUR');
  const em = () => harness.service.db.fork();
  const [everyday, card, savings] = [
    await openAccount(em(), ada.id, { name: 'Everyday', type: 'CHECKING', currency: 'EUR' }),
    await openAccount(em(), ada.id, { name: 'Card', type: 'CREDIT_CARD', currency: 'EUR' }),
    await openAccount(em(), ada.id, { name: 'Savings', type: 'SAVINGS', currency: 'EUR' }),
  ];
  // Listing the categories makes the default set, as the first `me { categories }` would.
  const categories = new Map((await listCategories(em(), ada.id)).map((c) => [c.name, c.id]));
  for (const [pattern, category] of [
    ['Corner Market', 'Groceries'],
    ['Green Grocer', 'Groceries'],
    ['City Transit', 'Transport'],
    ['Trattoria', 'Eating out'],
    ['Power & Light', 'Utilities'],
    ['Cinema', 'Entertainment'],
  ] as const) {
    await createRule(em(), ada.id, { field: 'PAYEE', operator: 'CONTAINS', pattern, categoryId: categories.get(category)! });
  }
  const mapping = { date: 'Date', payee: 'Payee', amount: 'Amount', notes: 'Notes' };
  const shares = [
    [everyday, Math.round(total * 0.7), Date.UTC(2023, 0, 1)],
    [card, Math.round(total * 0.2), Date.UTC(2023, 6, 1)],
    [savings, total - Math.round(total * 0.7) - Math.round(total * 0.2), Date.UTC(2024, 0, 1)],
  ] as const;
  for (const [account, count, start] of shares) {
    await importStatement(em(), ada.id, { accountId: account.id, format: 'CSV', content: csvExport(count, start), csv: mapping });
  }
  await em()
    .getConnection()
    .execute(`update transactions set tags = case when amount % 2 = 0 then array['household'] else array['household', 'weekly'] end where user_id = ? and amount % 3 = 0`, [
      ada.id,
    ]);
  // Let the outbox relay drain the import's events before measuring.
  await new Promise((resolve) => setTimeout(resolve, 3_000));

  const query = `query Page($filter: TransactionFilter) { me { transactions(filter: $filter, first: 50) {
    totalCount
    totals { currency count net { amountMinor } }
    edges { cursor node { id bookedAt payee notes tags amount { amountMinor currency } account { id name } category { id name group } } }
    pageInfo { hasNextPage endCursor }
  } } }`;
  const variables = {
    filter: { accountId: everyday.id, from: '2023-03-01T00:00:00Z', to: '2024-03-01T00:00:00Z', minAmount: -15_000, maxAmount: -100, search: 'market' },
  };
  const check = await gql(harness.gatewayUrl, query, { token: ada.token, variables });
  if (check.errors) throw new Error(`the benchmark query fails: ${JSON.stringify(check.errors)}`);
  const page = check.data.me.transactions;
  process.stdout.write(
    `\nFiltered page through the gateway: ${total.toLocaleString('en')} transactions for the user; the filter matches ${page.totalCount}, the page returns ${page.edges.length} with account, category and tags.\n`,
  );

  const body = JSON.stringify({ query, variables, operationName: 'Page' });
  const run = (rate: number, seconds: number) =>
    runLoad({
      url: harness.gatewayUrl,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.token}` },
      body,
      connections: Number(values.connections),
      rate,
      seconds,
    });
  const loadAtStart = os.loadavg()[0]!;
  await run(10, 3); // warm up the gateway's query plan cache, the pools and the JIT
  for (const rate of rates) {
    const result = await run(rate, duration);
    rows.push({
      'target req/s': String(rate),
      'achieved req/s': result.achievedRate.toFixed(1),
      requests: String(result.answered),
      'p50 ms': result.latency.p50.toFixed(1),
      'p90 ms': result.latency.p90.toFixed(1),
      'p99 ms': result.latency.p99.toFixed(1),
      'max ms': result.latency.max.toFixed(1),
      errors: `${result.errors}${result.errors ? ` ${JSON.stringify(result.errorReasons)}` : ''}`,
      'load gen CPU % / loop p99 ms': `${result.generator.cpuPercent.toFixed(0)} / ${result.generator.loopDelayP99Ms.toFixed(1)}`,
    });
  }
  const after = await gql(harness.gatewayUrl, query, { token: ada.token, variables });
  if (after.errors || after.data.me.transactions.totalCount !== page.totalCount) throw new Error('the query answered differently after the run');

  const header = Object.keys(rows[0]!);
  const widths = header.map((h) => Math.max(h.length, ...rows.map((r) => r[h]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map((r) => line(header.map((h) => r[h]!))).join('\n')}\n`);
  const cpus = `${os.cpus().length} CPUs, 1-minute load average ${loadAtStart.toFixed(1)} before the runs and ${os.loadavg()[0]!.toFixed(1)} after`;
  process.stdout.write(
    `\n${duration} s per rate, open loop over up to ${values.connections} connections, latency from each request's scheduled time; gateway, both subgraphs and load generator in this one process; ${cpus}.\n`,
  );
} finally {
  await harness.stop();
}
