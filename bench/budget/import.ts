// CSV import benchmark (issue 4, acceptance 5a).
//
//   npx tsx bench/budget/import.ts [--rows 100000]
//
// Generates a CSV export of --rows lines, starts the budget service in-process on its own
// PostgreSQL schema, and times importStatement — the function behind the importTransactions
// mutation — end to end: parse and check every line, look for duplicates among booked
// transactions, categorise by five rules in PostgreSQL, insert the transactions and one outbox
// event per line, re-check budgets, commit. It then times the same file again (every line a
// duplicate, nothing written) and a dry run into an empty account, prints one row per run and
// removes its schema. The outbox relay publishes to a bus that drops messages, so that Kafka is
// not part of the figure (publishing is asynchronous, after the commit).
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseBudgetEnv, startBudgetService, type Dependencies } from '@analytica/budget-subgraph';
import { openAccount } from '@analytica/budget-subgraph/accounts';
import { setBudget } from '@analytica/budget-subgraph/budgets';
import { listCategories } from '@analytica/budget-subgraph/categories';
import { importStatement, readCsvStatement } from '@analytica/budget-subgraph/imports';
import { createRule } from '@analytica/budget-subgraph/rules';
import { csvExport } from '@analytica/budget-subgraph/statement-samples';
import { dropSchema, services, TEST_SUBGRAPH_SIGNING_KEY, uniqueName } from '@analytica/testing';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } });
const rows = Number(values.rows);

const droppingBus: NonNullable<Dependencies['bus']> = {
  kind: 'local',
  publish: async () => {},
  consume: async () => ({ stop: async () => {} }),
  ping: async () => {},
  close: async () => {},
};

const schema = uniqueName('bench_budget_import');
const service = await startBudgetService(
  parseBudgetEnv({
    PORT: '0',
    LOG_LEVEL: 'warn',
    SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    SCHEDULE_INTERVAL_MS: '0',
    EXCHANGE_RATES_FILE: '',
  }),
  { bus: droppingBus },
);
const results: { run: string; lines: number; booked: number; duplicates: number; ms: number }[] = [];
try {
  const content = csvExport(rows);
  const userId = randomUUID();
  const em = () => service.db.fork();
  const account = await openAccount(em(), userId, { name: 'Bench', type: 'CHECKING', currency: 'EUR' });
  const empty = await openAccount(em(), userId, { name: 'Empty', type: 'CHECKING', currency: 'EUR' });
  const categories = new Map((await listCategories(em(), userId)).map((c) => [c.name, c.id]));
  const rules: [string, 'CONTAINS' | 'REGEX', string][] = [
    ['Corner Market', 'CONTAINS', 'Groceries'],
    ['^Green Grocer', 'REGEX', 'Groceries'],
    ['transit', 'CONTAINS', 'Transport'],
    ['trattoria|pizzeria', 'REGEX', 'Eating out'],
    ['Power & Light', 'CONTAINS', 'Utilities'],
  ];
  for (const [pattern, operator, category] of rules) {
    await createRule(em(), userId, { field: 'PAYEE', operator, pattern, categoryId: categories.get(category)! });
  }
  await setBudget(em(), userId, { categoryId: categories.get('Groceries')!, period: 'MONTHLY', startsOn: '2024-01-01', amount: { amountMinor: 50_000, currency: 'EUR' } });
  const mapping = { date: 'Date', payee: 'Payee', amount: 'Amount', notes: 'Notes' };

  const timed = async (run: string, work: () => Promise<{ lines: number; booked: number; duplicates: number }>) => {
    const started = performance.now();
    const outcome = await work();
    results.push({ run, ...outcome, ms: performance.now() - started });
  };
  await timed('parse and check only (no database)', async () => {
    const lines = readCsvStatement(content, mapping, 'EUR');
    return { lines: lines.length, booked: 0, duplicates: 0 };
  });
  const asOutcome = (o: Awaited<ReturnType<typeof importStatement>>) => ({ lines: o.lines.length, booked: o.dryRun ? 0 : o.imported, duplicates: o.duplicates });
  await timed('import into an empty account', async () => asOutcome(await importStatement(em(), userId, { accountId: account.id, format: 'CSV', content, csv: mapping })));
  await timed('same file again (all duplicates)', async () => asOutcome(await importStatement(em(), userId, { accountId: account.id, format: 'CSV', content, csv: mapping })));
  await timed('dry run (preview, nothing written)', async () =>
    asOutcome(await importStatement(em(), userId, { accountId: empty.id, format: 'CSV', content, csv: mapping, dryRun: true })),
  );

  const [counts] = await em()
    .getConnection()
    .execute<{ transactions: string; events: string; categorised: string }[]>(
      `select (select count(*) from transactions) as transactions,
              (select count(*) from outbox where topic = 'transactions.recorded.v1') as events,
              (select count(*) from transactions where category_id is not null) as categorised`,
    );
  process.stdout.write(
    `\nCSV import, ${rows.toLocaleString('en')} lines (${(Buffer.byteLength(content) / 1_048_576).toFixed(1)} MiB), PostgreSQL ${services.databaseUrl.replace(/^.*@/, '')}\n\n`,
  );
  const header = ['run', 'lines', 'booked', 'duplicates', 'seconds', 'lines/s'];
  const table = results.map((r) => [
    r.run,
    String(r.lines),
    String(r.booked),
    String(r.duplicates),
    (r.ms / 1000).toFixed(2),
    Math.round(r.lines / (r.ms / 1000)).toLocaleString('en'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${table.map(line).join('\n')}\n\n`);
  process.stdout.write(
    `booked: ${counts?.transactions} transactions, ${counts?.events} transactions.recorded.v1 events in the outbox, ${counts?.categorised} categorised by rules\n`,
  );
  process.stdout.write(`${os.cpus().length} CPUs, 1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the end\n`);
} finally {
  await service.stop();
  await dropSchema(schema);
}
