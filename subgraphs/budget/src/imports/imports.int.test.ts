// A statement import of the largest size runs on the service's event loop (issue 21): it must let
// other requests in as it goes. The service runs in this process, so a timer of the test sees the
// same event loop: the longest wait between its ticks is the longest stretch the import held it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAuth, dropSchema, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseBudgetEnv, startBudgetService } from '../index.js';
import { ofxSgml } from './statement-samples.js';

const schema = uniqueName('budget_import_test');
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startBudgetService>>;

beforeAll(async () => {
  auth = await createTestAuth();
  service = await startBudgetService(
    parseBudgetEnv({
      ...auth.env,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      SCHEDULE_INTERVAL_MS: '0',
    }),
  );
});

afterAll(async () => {
  await service?.stop();
  await auth?.close();
  await dropSchema(schema);
});

/**
 * Runs `work` while a 5 ms timer ticks, and answers the longest stretch between two ticks, in CPU
 * time of this process: what the event loop was busy with. Wall time would also count the time
 * the machine gave to other processes, which says nothing about the import.
 */
async function longestStall<T>(work: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let last = cpuMs();
  let stallMs = 0;
  const ticker = setInterval(() => {
    const now = cpuMs();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  try {
    return { value: await work(), stallMs };
  } finally {
    clearInterval(ticker);
  }
}

describe('statement imports on the event loop', () => {
  // Measured with the import as it was (one pass per stage, rows written into the SQL text by the
  // ORM): 450 ms of CPU at a stretch, 0.6 to 2.7 s of wall time on a busy machine. In slices, with
  // the rows bound as parameters: 75 to 125 ms, most of it reading the 1 MB request body.
  const BOUND_MS = 300;

  it('books 16,000 CSV lines (almost 1 MB) and 6,000 OFX transactions without holding the event loop for long', async () => {
    const who = randomUUID();
    const token = auth.tokenFor({ id: who });
    const ask = (query: string, variables: Record<string, unknown>) => gql(`${service.url}/graphql`, query, { token, variables });
    const opened = await ask('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { name: 'Imported', type: 'CHECKING', currency: 'EUR' } });
    const accountId = opened.data.openAccount.id as string;
    const IMPORT = 'mutation($i: ImportTransactionsInput!) { importTransactions(input: $i) { rowCount imported } }';

    const lines = Array.from(
      { length: 16_000 },
      (_, i) => `2025-0${1 + (i % 9)}-1${i % 10},-${1 + (i % 97)}.${String(i % 100).padStart(2, '0')},Shop number ${i} with a long name`,
    );
    const csv = `date,amount,payee\n${lines.join('\n')}\n`;
    expect(csv.length).toBeGreaterThan(800_000);
    const fromCsv = await longestStall(() =>
      ask(IMPORT, { i: { accountId, format: 'CSV', content: csv, duplicateWindowDays: 0, csv: { date: 'date', amount: 'amount', payee: 'payee' } } }),
    );
    expect(fromCsv.value.errors).toBeUndefined();
    expect(fromCsv.value.data.importTransactions).toEqual({ rowCount: 16_000, imported: 16_000 });
    expect(fromCsv.stallMs).toBeLessThan(BOUND_MS);

    const ofx = ofxSgml(Array.from({ length: 6_000 }, (_, i) => ({ posted: '20250303', amount: `-${1 + (i % 50)}.25`, fitId: `f${i}`, name: `Shop ${i}` })));
    const fromOfx = await longestStall(() => ask(IMPORT, { i: { accountId, format: 'OFX', content: ofx, duplicateWindowDays: 0 } }));
    expect(fromOfx.value.errors).toBeUndefined();
    expect(fromOfx.value.data.importTransactions).toEqual({ rowCount: 6_000, imported: 6_000 });
    expect(fromOfx.stallMs).toBeLessThan(BOUND_MS);
  }, 60_000);
});
