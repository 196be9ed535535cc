// Payments end to end: GraphQL initiatePayment → outbox → Kafka → payments worker(s) → bank
// simulator → SUCCEEDED (ledger, outbox, Redis live status) → notifications worker → SMTP. Then a
// burst of email requests straight into notifications.email.v1. The payment service, the bank
// simulator and the mail catcher run in this process; the workers run as their own processes, as in
// stack mode. Prints its figures and stops.
//
//   npx tsx bench/payments/end-to-end.ts
//   BENCH_PAYMENTS=2000 BENCH_CONCURRENCY=40 BENCH_WORKERS=3 BENCH_RATE=20 BENCH_SECONDS=20 BENCH_EMAILS=3000 npx tsx bench/payments/end-to-end.ts
//
// Three measurements: throughput (a burst of BENCH_PAYMENTS from BENCH_CONCURRENCY clients, until the
// last shows SUCCEEDED on its live channel), latency at a steady BENCH_RATE payments/s (no backlog, so
// p50/p99 are the pipeline's own), and emails/s for a burst of BENCH_EMAILS email requests.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseBankEnv, startBankSimulator } from '@analytica/bank-simulator';
import { createKafkaBus, encodeEvent } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { parsePaymentEnv, startPaymentService } from '@analytica/payment-subgraph';
import { createRedis } from '@analytica/redis';
import { parseSmtpCatcherEnv, startSmtpCatcher } from '@analytica/smtp-catcher';
import { createTestAuth, dropSchema, freePort, gatewaySignature, gql, uniqueName } from '@analytica/testing';
import { repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '@analytica/dev/processes';
import { describeLoad, runLoad } from '../lib/open-loop.js';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const EMAILS = Number(process.env.BENCH_EMAILS ?? 2000);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const USERS = 20;
const BANK_MEDIAN_MS = process.env.BENCH_BANK_MEDIAN_MS ?? '20';
const BANK_P99_MS = process.env.BENCH_BANK_P99_MS ?? '80';
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

const run = uniqueName('bench_pay');
const logDir = mkdtempSync(path.join(os.tmpdir(), 'bench-payments-'));
const logger = createLogger('bench', 'silent');
const say = (line: string) => process.stdout.write(`${line}\n`);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const ms = (n: number) => `${n.toFixed(0)} ms`;
const children: ServiceProcess[] = [];
const shared = {
  LOG_LEVEL: 'warn',
  DATABASE_URL: databaseUrl,
  KAFKA_BROKERS: brokers,
  KAFKA_TOPIC_PREFIX: `${run}.`,
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: `${run}:`,
};

const auth = await createTestAuth();
const bank = await startBankSimulator(parseBankEnv({ PORT: '0', LOG_LEVEL: 'silent', BANK_LATENCY_MEDIAN_MS: BANK_MEDIAN_MS, BANK_LATENCY_P99_MS: BANK_P99_MS }));
const catcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: 'silent', PORT: '0', SMTP_PORT: '0', MAILBOX_LIMIT: '1000' }));
// Counted as they arrive: the catcher keeps only its newest messages.
let caught = 0;
catcher.onMessage(() => void caught++);
const service = await startPaymentService(
  parsePaymentEnv({
    ...auth.env,
    ...shared,
    PORT: '0',
    DATABASE_SCHEMA: `${run}_payment`,
    BANK_API_URL: bank.url,
    BANK_FINGERPRINT_SECRET: 'bench-fingerprint-secret-0123456789abcdef',
    PAYMENT_VELOCITY_MAX: '1000000',
    PAYMENT_DAILY_LIMIT_MINOR: '100000000',
  }),
);
const url = `${service.url}/graphql`;
const bus = createKafkaBus({ brokers: brokers.split(','), clientId: 'bench-payments', prefix: `${run}.`, logger });

async function cleanUp() {
  for (const child of children) await stopProcess(child);
  await bus.close();
  await service.stop();
  await catcher.stop();
  await bank.stop();
  await auth.close();
  await dropSchema(`${run}_payment`);
  await dropSchema(`${run}_notifications`);
}

try {
  say(`Payments benchmark: ${USERS} payers, ${WORKERS} payments worker(s), bank latency median ${BANK_MEDIAN_MS} ms / p99 ${BANK_P99_MS} ms.`);
  say(`Worker logs: ${logDir}`);
  for (let i = 1; i <= WORKERS; i++) {
    children.push(
      spawnService(
        `payments-worker-${i}`,
        path.join(repoRoot, 'workers/payments/src/main.ts'),
        await freePort(),
        {
          ...shared,
          DATABASE_SCHEMA: `${run}_payment`,
          BANK_API_URL: bank.url,
        },
        logDir,
      ),
    );
  }
  children.push(
    spawnService(
      'notifications-worker',
      path.join(repoRoot, 'workers/notifications/src/main.ts'),
      await freePort(),
      {
        ...shared,
        DATABASE_SCHEMA: `${run}_notifications`,
        SMTP_URL: catcher.smtpUrl,
        UNSUBSCRIBE_SECRET: createHmac('sha256', run).update('unsubscribe').digest('hex'),
      },
      logDir,
    ),
  );
  await Promise.all(children.map((child) => waitUntilReady(child)));

  // Payers: registered (so the notifications worker knows their address) with a verified account.
  const payers = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => {
      const user = { id: randomUUID() };
      const token = auth.tokenFor(user);
      const email = `payer-${i}@bench.example`;
      await bus.publish('user.registered.v1', [
        encodeEvent('user.registered.v1', user.id, { userId: user.id, email, displayName: `Payer ${i}`, registeredAt: new Date().toISOString() }),
      ]);
      const connected = await gql(url, 'mutation { connectBank(input: { bankName: "Bench Bank" }) { id accounts { accountId name } } }', { token });
      const offer = connected.data.connectBank.accounts.find((a: { name: string }) => a.name === 'Savings account');
      const linked = await gql(url, 'mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id } }', {
        token,
        variables: { input: { connectionId: connected.data.connectBank.id, accountId: offer.accountId } },
      });
      const accountId = linked.data.linkBankAccount.id as string;
      const [row] = await service.db.orm.em
        .getConnection()
        .execute<{ value: string }[]>(`select value from outbox where topic = 'notifications.email.v1' and value like ?`, [`%${accountId}%`]);
      await gql(url, 'mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { status } }', {
        token,
        variables: { id: accountId, code: JSON.parse(row!.value).data.code },
      });
      return { user, token, email, accountId };
    }),
  );
  // Let the setup's emails (welcome, codes) go out before measuring.
  const setupMail = USERS * 2;
  const deadline = Date.now() + 60_000;
  while (caught < setupMail && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

  // Live status: the moment a payment shows SUCCEEDED to a subscriber is when it is done.
  const subscriber = createRedis(redisUrl);
  const succeededAt = new Map<string, number>();
  const processingAt = new Map<string, number>();
  subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => {
    const payment = JSON.parse(message) as { id: string; status: string };
    if (payment.status === 'SUCCEEDED') succeededAt.set(payment.id, performance.now());
    if (payment.status === 'PROCESSING') processingAt.set(payment.id, performance.now());
  });
  await subscriber.psubscribe(`${run}:Payment.*`);

  let sequence = 0;
  async function initiate(startedAt: Map<string, number>, apiLatency: number[]) {
    const n = sequence++;
    const payer = payers[n % USERS]!;
    const t0 = performance.now();
    const result = await gql(url, 'mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id } }', {
      token: payer.token,
      variables: {
        input: { bankAccountId: payer.accountId, amount: { amountMinor: 100 + (n % 900), currency: 'EUR' }, payeeName: `Shop ${n % 50}`, reference: `Bench ${n}` },
        key: randomUUID(),
      },
    });
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    startedAt.set(result.data.initiatePayment.id, t0);
    apiLatency.push(performance.now() - t0);
  }
  const waitFor = async (ids: Iterable<string>, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    const wanted = [...ids];
    while (wanted.some((id) => !succeededAt.has(id)) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return performance.now();
  };
  const report = (label: string, startedAt: Map<string, number>, apiLatency: number[]) => {
    const done = [...startedAt].flatMap(([id, t0]) => (succeededAt.has(id) ? [succeededAt.get(id)! - t0] : [])).sort((a, b) => a - b);
    const queued = [...startedAt].flatMap(([id, t0]) => (processingAt.has(id) ? [processingAt.get(id)! - t0] : [])).sort((a, b) => a - b);
    const api = [...apiLatency].sort((a, b) => a - b);
    say(`  ${label}: initiatePayment p50 ${ms(quantile(api, 0.5))}, p99 ${ms(quantile(api, 0.99))}`);
    say(`  ${label}: initiate → PROCESSING p50 ${ms(quantile(queued, 0.5))}, p99 ${ms(quantile(queued, 0.99))}`);
    say(`  ${label}: initiate → SUCCEEDED  p50 ${ms(quantile(done, 0.5))}, p90 ${ms(quantile(done, 0.9))}, p99 ${ms(quantile(done, 0.99))}, max ${ms(done.at(-1) ?? Number.NaN)}`);
  };

  // 1. Throughput: PAYMENTS as fast as CONCURRENCY clients send them; done when the last one shows SUCCEEDED.
  const burst = new Map<string, number>();
  const burstApi: number[] = [];
  const mailBefore = caught;
  const began = performance.now();
  let left = PAYMENTS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await initiate(burst, burstApi);
    }),
  );
  const initiated = performance.now();
  const done = await waitFor(burst.keys(), 600_000);
  const until = Date.now() + 300_000;
  while (caught - mailBefore < PAYMENTS && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const mailed = performance.now();
  const finished = [...burst.keys()].filter((id) => succeededAt.has(id)).length;
  say('');
  say(`Throughput (${PAYMENTS} payments, ${CONCURRENCY} clients):`);
  say(
    `  ${finished}/${PAYMENTS} SUCCEEDED in ${((done - began) / 1000).toFixed(1)} s → ${(finished / ((done - began) / 1000)).toFixed(1)} payments/s end to end (accepted at ${(PAYMENTS / ((initiated - began) / 1000)).toFixed(1)}/s)`,
  );
  report('burst', burst, burstApi);
  say(`  payment-result emails: ${caught - mailBefore} caught, the last ${((mailed - done) / 1000).toFixed(1)} s after the last SUCCEEDED`);

  // 2. Latency without a backlog: RATE payments a second on a fixed schedule (the open-loop
  // generator, bench/lib/open-loop.ts), each timed from its scheduled send, for SECONDS.
  const steady = new Map<string, number>();
  const steadyApi: number[] = [];
  const mutation = 'mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id } }';
  const steadyLoad = await runLoad({
    url,
    rate: RATE,
    seconds: SECONDS,
    connections: CONCURRENCY,
    headers: { 'content-type': 'application/json' },
    request: (i) => {
      const n = sequence++;
      const payer = payers[n % USERS]!;
      const body = JSON.stringify({
        query: mutation,
        variables: {
          input: { bankAccountId: payer.accountId, amount: { amountMinor: 100 + (n % 900), currency: 'EUR' }, payeeName: `Shop ${n % 50}`, reference: `Bench ${n} ${i}` },
          key: randomUUID(),
        },
      });
      // Straight to the payment service, which answers only requests signed as the gateway signs them.
      return { headers: { authorization: `Bearer ${payer.token}`, ...gatewaySignature(url, body) }, body };
    },
    onAnswer: (_i, body, from) => {
      const id = (JSON.parse(body.toString()) as { data?: { initiatePayment?: { id: string } } }).data?.initiatePayment?.id;
      if (id) {
        steady.set(id, from);
        steadyApi.push(performance.now() - from);
      }
    },
  });
  if (steadyLoad.errors) throw new Error(`steady payments failed: ${describeLoad(steadyLoad)}`);
  await waitFor(steady.keys(), 120_000);
  say('');
  say(`Latency at a steady ${RATE} payments/s for ${SECONDS} s (target ${RATE}/s, achieved ${steadyLoad.achievedRate.toFixed(1)}/s accepted):`);
  say(`  ${describeLoad(steadyLoad)}`);
  report('steady', steady, steadyApi);
  await subscriber.quit();

  // Emails alone: a burst of requests straight into notifications.email.v1.
  // The steady phase's payment results may still be arriving.
  const settle = Date.now() + 30_000;
  while (caught - mailBefore < PAYMENTS + RATE * SECONDS && Date.now() < settle) await new Promise((r) => setTimeout(r, 50));
  const burstBefore = caught;
  const requests = Array.from({ length: EMAILS }, (_, i) => {
    const payer = payers[i % USERS]!;
    return encodeEvent('notifications.email.v1', payer.user.id, {
      userId: payer.user.id,
      template: 'anomaly',
      data: { title: `Bench ${i}`, detail: 'A spending pattern worth a look.' },
    });
  });
  const burstStart = performance.now();
  for (let i = 0; i < requests.length; i += 500) await bus.publish('notifications.email.v1', requests.slice(i, i + 500));
  const emailsUntil = Date.now() + 300_000;
  while (caught - burstBefore < EMAILS && Date.now() < emailsUntil) await new Promise((r) => setTimeout(r, 50));
  const burstDone = performance.now();
  say('');
  say(`Emails (${EMAILS} requests published at once to notifications.email.v1):`);
  say(
    `  ${caught - burstBefore}/${EMAILS} rendered and sent over SMTP in ${((burstDone - burstStart) / 1000).toFixed(1)} s → ${((caught - burstBefore) / ((burstDone - burstStart) / 1000)).toFixed(1)} emails/s`,
  );
} finally {
  await cleanUp();
}
process.exit(0);
