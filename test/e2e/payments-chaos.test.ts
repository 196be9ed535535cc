// Acceptance: 200 payments while the bank fails 30% of its calls (503s, 500s after booking, answers
// that never come) and the payments worker is killed with SIGKILL twice mid-run. Every payment must
// end SUCCEEDED or FAILED (or wait in the dead-letter topic with a reason), the bank must have
// applied each at most once, and the three books (payments, our ledger, the bank's) must agree.
// Whether a random run dead-letters anything is luck, so one more payment is sent while the bank
// refuses everything: it must run out of retries, wait in the dead letters with its reason, and
// still end SUCCEEDED exactly once when the bank is back.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBankEnv, startBankSimulator } from '@analytica/bank-simulator';
import { parsePaymentEnv, startPaymentService } from '@analytica/payment-subgraph';
import { createTestAuth, dropSchema, eventually, freePort, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '../../dev/src/processes.js';

const run = uniqueName('chaos');
const schema = `${run}_payment`;
const logDir = path.join(repoRoot, '.data/test-logs', run);
const PAYMENTS = 200;
const USERS = 10;
let auth: TestAuth;
let bank: Awaited<ReturnType<typeof startBankSimulator>>;
let service: Awaited<ReturnType<typeof startPaymentService>>;
let url: string;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  auth = await createTestAuth();
  bank = await startBankSimulator(
    parseBankEnv({ PORT: '0', LOG_LEVEL: 'silent', BANK_LATENCY_MEDIAN_MS: '5', BANK_LATENCY_P99_MS: '60', BANK_HANG_MS: '2000', BANK_RANDOM_SEED: '2026' }),
  );
  service = await startPaymentService(
    parsePaymentEnv({
      ...auth.env,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${run}:`,
      BANK_API_URL: bank.url,
      BANK_FINGERPRINT_SECRET: 'chaos-fingerprint-secret-0123456789abcdef',
      PAYMENT_VELOCITY_MAX: '1000',
    }),
  );
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  for (const worker of workers) await stopProcess(worker);
  await service?.stop();
  await bank?.stop();
  await auth?.close();
  await dropSchema(schema);
});

/**
 * One payments worker process. Each generation joins under a consumer group of its own, so it
 * reads payments.requested.v1 from the start: every message is delivered again, the harshest form
 * of an offset commit lost in a crash (and no 30 s wait for the killed member's session to expire).
 */
async function startWorker(generation: number) {
  const port = await freePort();
  const worker = spawnService(
    `payments-worker-${generation}`,
    path.join(repoRoot, 'workers/payments/src/main.ts'),
    port,
    {
      LOG_LEVEL: 'info',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${run}:`,
      BANK_API_URL: bank.url,
      BANK_TIMEOUT_MS: '300',
      PAYMENTS_GROUP_ID: `payments-worker-${generation}`,
      PAYMENT_RETRY_DELAYS_MS: '50,200,500',
      RECONCILE_INTERVAL_MS: '500',
      RECONCILE_AFTER_MS: '3000',
    },
    logDir,
  );
  workers.push(worker);
  await waitUntilReady(worker, 60_000);
  return worker;
}

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return service.db.orm.em.getConnection().execute(query, params, 'all');
}

async function payer(index: number) {
  const user = { id: randomUUID() };
  const token = auth.tokenFor(user);
  const connected = await gql(url, `mutation { connectBank(input: { bankName: "Chaos Bank" }) { id accounts { accountId name } } }`, { token });
  // Two of the payers pay from their 50 EUR pocket account: the bank declines some of theirs.
  const name = index < 2 ? 'Pocket money' : 'Current account';
  const offer = connected.data.connectBank.accounts.find((a: { name: string }) => a.name === name);
  const linked = await gql(url, `mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id } }`, {
    token,
    variables: { input: { connectionId: connected.data.connectBank.id, accountId: offer.accountId } },
  });
  const accountId = linked.data.linkBankAccount.id as string;
  const [email] = await sql<{ value: string }>(`select value from outbox where topic = 'notifications.email.v1' and value like ?`, [`%${accountId}%`]);
  await gql(url, `mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { status } }`, {
    token,
    variables: { id: accountId, code: JSON.parse(email!.value).data.code },
  });
  return { token, accountId, pocket: index < 2 };
}

async function settledCount() {
  const [row] = await sql<{ n: string }>(`select count(*) as n from payments where status in ('SUCCEEDED', 'FAILED')`);
  return Number(row?.n ?? 0);
}

describe('payments under chaos', () => {
  it('settles 200 payments with a flaky bank and two SIGKILLed workers: none lost, none doubled, the books agree', { timeout: 180_000 }, async () => {
    const started = Date.now();
    const payers = await Promise.all(Array.from({ length: USERS }, (_, i) => payer(i)));
    await sandbox('PUT', '/behaviour', { failureRate: 0.3, failureKinds: ['unavailable', 'error-after-apply', 'timeout'] });
    let worker = await startWorker(1);

    // Initiate all 200 (20 per payer), ten at a time, while the worker is already processing.
    const ids: string[] = [];
    const initiating = (async () => {
      for (let i = 0; i < PAYMENTS; i += 10) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const who = payers[(i + j) % USERS]!;
            const amountMinor = who.pocket ? 300 + ((i + j) % 7) * 100 : 100 + (((i + j) * 37) % 9_900);
            const result = await gql(url, `mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }`, {
              token: who.token,
              variables: {
                input: { bankAccountId: who.accountId, amount: { amountMinor, currency: 'EUR' }, payeeName: `Payee ${(i + j) % 13}`, reference: `Chaos ${i + j}` },
                key: randomUUID(),
              },
            });
            expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
            expect(result.data.initiatePayment.status).toBe('QUEUED');
            return result.data.initiatePayment.id as string;
          }),
        );
        ids.push(...batch);
      }
    })();

    // Kill the worker twice in the middle of the run, each time with payments in flight.
    for (const [generation, threshold] of [
      [2, 60],
      [3, 130],
    ] as const) {
      await eventually(async () => ((await settledCount()) >= threshold ? true : undefined), 60_000, 50);
      worker.child.kill('SIGKILL');
      await worker.exited;
      worker = await startWorker(generation);
    }
    await initiating;
    expect(ids).toHaveLength(PAYMENTS);

    // Every payment ends. One whose retries ran out waits in the dead-letter topic (with its reason)
    // only until the reconciler asks the bank about it, so the books are compared once all have ended.
    await eventually(
      async () => {
        const [row] = await sql<{ open: string }>(`select count(*) as open from payments where status not in ('SUCCEEDED', 'FAILED')`);
        return Number(row?.open) === 0 ? true : undefined;
      },
      60_000,
      250,
    );

    // The dead-letter path, for certain: with every bank call failing, one more payment runs out of
    // its retry tiers and lands in the dead letters with the bank's answer as the reason, not settled.
    await sandbox('PUT', '/behaviour', { failureRate: 1, failureKinds: ['unavailable'] });
    const doomed = payers[USERS - 1]!;
    const lastResort = await gql(url, `mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }`, {
      token: doomed.token,
      variables: { input: { bankAccountId: doomed.accountId, amount: { amountMinor: 4_321, currency: 'EUR' }, payeeName: 'Payee 0', reference: 'Dead letter' }, key: randomUUID() },
    });
    expect(lastResort.errors, JSON.stringify(lastResort.errors)).toBeUndefined();
    const doomedId = lastResort.data.initiatePayment.id as string;
    ids.push(doomedId);
    const letter = await eventually(
      async () =>
        (await sql<{ reason: string; source_topic: string; value: string }>('select reason, source_topic, value from dead_letters where value like ?', [`%${doomedId}%`]))[0],
      30_000,
      100,
    );
    expect(letter.reason).toMatch(/answered 503/);
    expect(letter.source_topic).toBe('payments.requested.v1.retry.500ms');
    expect(JSON.parse(letter.value)).toMatchObject({ paymentId: doomedId, amountMinor: '4321' });
    const [waiting] = await sql<{ status: string }>('select status from payments where id = ?', [doomedId]);
    expect(waiting?.status).toBe('PROCESSING');
    // The bank comes back: the reconciler settles the dead-lettered payment; it is not lost.
    await sandbox('PUT', '/behaviour', { failureRate: 0 });
    await eventually(
      async () => ((await sql<{ status: string }>('select status from payments where id = ?', [doomedId]))[0]?.status === 'SUCCEEDED' ? true : undefined),
      30_000,
      250,
    );

    const payments = await sql<{ id: string; status: string; amount_minor: string; provider_reference: string | null }>(
      'select id, status, amount_minor, provider_reference from payments',
    );
    const succeeded = payments.filter((p) => p.status === 'SUCCEEDED');
    const failed = payments.filter((p) => p.status === 'FAILED');
    const stats = (await sandbox('GET', '/stats')) as { injectedFailures: Record<string, number>; submissions: number };
    const { bookings } = (await sandbox('GET', '/bookings')) as { bookings: { idempotencyKey: string; paymentId: string; amountMinor: number }[] };
    const ledger = await sql<{ payment_id: string; amount_minor: string; bank_reference: string }>('select payment_id, amount_minor, bank_reference from ledger_entries');
    const deadLetters = await sql<{ reason: string; value: string }>('select reason, value from dead_letters');

    // The bank applied each payment at most once, and only the ones we call SUCCEEDED.
    const keys = bookings.map((b) => b.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(succeeded.map((p) => p.id).sort());
    // Our ledger has one debit per succeeded payment, with the bank's reference, and the sums agree.
    expect(ledger.map((l) => l.payment_id).sort()).toEqual(succeeded.map((p) => p.id).sort());
    const byPayment = new Map(bookings.map((b) => [b.idempotencyKey, b]));
    for (const entry of ledger) expect(entry.bank_reference).toBe(byPayment.get(entry.payment_id)!.paymentId);
    const ledgerSum = ledger.reduce((s, l) => s + Number(l.amount_minor), 0);
    const bankSum = bookings.reduce((s, b) => s + b.amountMinor, 0);
    const succeededSum = succeeded.reduce((s, p) => s + Number(p.amount_minor), 0);
    expect(ledgerSum).toBe(bankSum);
    expect(-ledgerSum).toBe(succeededSum);
    // Declines are FAILED with the bank's reason; every status path is a legal one, each step once.
    expect(failed.length).toBeGreaterThan(0);
    const reasons = await sql<{ failure_reason: string }>(`select failure_reason from payments where status = 'FAILED'`);
    expect(reasons.every((r) => /INSUFFICIENT_FUNDS/.test(r.failure_reason))).toBe(true);
    const paths = await sql<{ path: string }>(`select string_agg(status, '>' order by id) as path from payment_status_history group by payment_id`);
    expect(paths).toHaveLength(PAYMENTS + 1);
    for (const { path: steps } of paths) expect(['QUEUED>PROCESSING>SUCCEEDED', 'QUEUED>PROCESSING>FAILED']).toContain(steps);
    // Every dead letter is one of these payments, with the bank's answer as its reason, and that
    // payment ended anyway (the reconciler asked the bank): the dead-lettered one among them.
    const final = new Map(payments.map((p) => [p.id, p.status]));
    expect(deadLetters.map((d) => JSON.parse(d.value).paymentId)).toContain(doomedId);
    for (const dead of deadLetters) {
      expect(dead.reason).toMatch(/bank|no answer|answered/);
      expect(['SUCCEEDED', 'FAILED'], dead.value).toContain(final.get(JSON.parse(dead.value).paymentId));
    }
    expect(final.get(doomedId)).toBe('SUCCEEDED');

    // The chaos really happened.
    expect(Object.values(stats.injectedFailures).reduce((a, b) => a + b, 0)).toBeGreaterThan(30);
    expect(workers.filter((w) => w.child.signalCode === 'SIGKILL')).toHaveLength(2);
    expect(succeeded.length + failed.length).toBe(PAYMENTS + 1);
    expect(payments.map((p) => p.id).sort()).toEqual([...ids].sort());
    console.log(
      `chaos: ${succeeded.length} succeeded, ${failed.length} failed, ${deadLetters.length} dead letters, ` +
        `${stats.submissions} bank submissions, failures injected ${JSON.stringify(stats.injectedFailures)}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});

async function sandbox(method: string, pathname: string, body?: unknown) {
  const response = await fetch(`${bank.url}/sandbox${pathname}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json() as Promise<unknown>;
}
