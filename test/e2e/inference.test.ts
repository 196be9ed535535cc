// Issue 13 through the whole stack (dev/src/stack.ts: every service its own process against the
// real PostgreSQL, Redis and Kafka; mail to infra:up's catcher on 1025/8025): the inference
// worker's suggestions reach Transaction.suggestedCategory through the gateway, an unusual payment
// becomes an ANOMALY insight (live) and exactly one email, and a worker killed mid-stream loses
// and doubles nothing.
import path from 'node:path';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_PORTS, entryOf, repoRoot, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '../../dev/src/processes.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';
import { createKafkaBus, HEADER, type EventBus, type EventPayload } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { eventually, freePort, gql, isolatedRunEnv, services, uniqueName } from '@analytica/testing';

const run = uniqueName('e2e_ml');
const MAIL = 'http://127.0.0.1:8025';
const email = `${run}@example.test`.toLowerCase();
let stack: RunningStack;
let token: string;
let accountId: string;
let restarted: ServiceProcess | undefined;
let bus: EventBus;
/** Every transactions.categorised.v1 message on this run's topic: event id and transaction id. */
const categorised: { eventId: string; transactionId: string }[] = [];
let watch: { stop(): Promise<void> } | undefined;

const call = async (query: string, variables: Record<string, unknown> = {}) => {
  const response = await gql(stack.gatewayUrl, query, { token, variables });
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data;
};

const DAY = 86_400_000;
const START = Date.parse('2026-01-05T00:00:00Z');
const GROCERS = ['REWE SAGT DANKE 4411', 'EDEKA CENTER 221', 'LIDL 1234 BERLIN'];

async function record(payee: string, amountMinor: number, bookedAt: Date): Promise<string> {
  const data = await call('mutation($input: RecordTransactionInput!) { recordTransaction(input: $input) { id } }', {
    input: { accountId, amount: { amountMinor, currency: 'EUR' }, bookedAt: bookedAt.toISOString(), payee },
  });
  return data.recordTransaction.id;
}

async function suggestionOf(id: string): Promise<{ name: string; confidence: number; modelVersion: string; category: { name: string } | null } | null> {
  const data = await call('query($id: ID!) { transaction(id: $id) { suggestedCategory { name confidence modelVersion category { name } } } }', { id });
  return data.transaction.suggestedCategory;
}

async function mailTo(address: string): Promise<{ subject: string; messageId: string | null }[]> {
  return ((await (await fetch(`${MAIL}/messages?to=${encodeURIComponent(address)}`)).json()) as { messages: { subject: string; messageId: string | null }[] }).messages;
}

async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: services.databaseUrl });
  await client.connect();
  try {
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir: path.join(repoRoot, '.data/test-secrets'),
    env: { LOG_LEVEL: 'info', ...isolatedRunEnv(run) },
  });
  const registered = await gql(stack.gatewayUrl, 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
    variables: { input: { email, password: 'correct horse battery staple 13', displayName: 'Ines Ference', homeCurrency: 'EUR' } },
  });
  expect(registered.errors).toBeUndefined();
  token = registered.data.register.accessToken;
  accountId = (await call('mutation { openAccount(input: { name: "Everyday", type: CHECKING, currency: "EUR" }) { id } }')).openAccount.id;
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: `${run}-watch`, prefix: `${run}.`, logger: createLogger('test', 'silent') });
  watch = await bus.consume({
    groupId: `${run}-watch`,
    topics: ['transactions.categorised.v1'],
    handle: async (m) => {
      categorised.push({ eventId: m.headers[HEADER.id]!, transactionId: (JSON.parse(m.value) as EventPayload<'transactions.categorised.v1'>).transactionId });
    },
  });
}, 180_000);

afterAll(async () => {
  await watch?.stop();
  await bus?.close();
  if (restarted) await stopProcess(restarted);
  await stack?.stop();
  const schemas = await sql<{ nspname: string }>('select nspname from pg_namespace where starts_with(nspname, $1)', [`${run}_`]);
  for (const { nspname } of schemas) await sql(`drop schema "${nspname}" cascade`);
});

describe('models through the stack', () => {
  it('gives a transaction the rules did not categorise a suggestedCategory through the gateway within 2 s', async () => {
    // A month of ordinary grocery shopping in the daytime: the history the anomaly test needs.
    for (let d = 0; d < 30; d++) {
      await record(GROCERS[d % 3]!, -(2500 + ((d * 733) % 2200)), new Date(START + d * DAY + (10 + (d % 8)) * 3_600_000 + ((d * 7) % 60) * 60_000));
    }
    const recordedAt = Date.now();
    const id = await record('REWE SAGT DANKE 4411', -3480, new Date(START + 30 * DAY + 11 * 3_600_000));
    const suggestion = await eventually(async () => (await suggestionOf(id)) ?? undefined, 2000, 25);
    const elapsed = Date.now() - recordedAt;
    expect(elapsed).toBeLessThan(2000);
    expect(suggestion).toMatchObject({ name: 'Groceries', category: { name: 'Groceries' } });
    expect(suggestion.confidence).toBeGreaterThan(0.5);
    expect(suggestion.modelVersion).toMatch(/^[0-9a-f]{12}$/);
  }, 120_000);

  it('makes an unusual payment an ANOMALY insight, live, and exactly one email', async () => {
    const client = createClient({
      url: stack.gatewayUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    const live: { kind: string; title: string }[] = [];
    const subscribed = new Promise<void>((resolve, reject) => {
      client.subscribe<{ insightCreated: { kind: string; title: string } }>(
        { query: 'subscription { insightCreated { kind title } }' },
        { next: (r) => (r.data ? live.push(r.data.insightCreated) : reject(new Error(JSON.stringify(r.errors)))), error: reject, complete: () => undefined },
      );
      setTimeout(resolve, 1000); // the gateway has the subscription by then
    });
    try {
      await subscribed;
      // The usual shop and amount, at 03:17 UTC: the model's TIMING anomaly.
      const id = await record('REWE SAGT DANKE 4411', -3100, new Date(START + 31 * DAY + 3 * 3_600_000 + 17 * 60_000));
      const insights = await eventually(async () => {
        const found = (await call('{ me { insights { kind title body } } }')).me.insights.filter((i: { kind: string }) => i.kind === 'ANOMALY');
        return found.length ? found : undefined;
      }, 20_000);
      expect(insights).toHaveLength(1);
      expect(insights[0].title).toMatch(/^Unusual Groceries \(suggested\) payment: 31\.00 EUR to REWE SAGT DANKE 4411 \(score 0\.\d\d\)$/);
      expect(insights[0].body).toContain('rarely pay at');
      await eventually(async () => (live.some((i) => i.kind === 'ANOMALY') ? true : undefined), 5000);
      expect(live.filter((i) => i.kind === 'ANOMALY')).toEqual([{ kind: 'ANOMALY', title: insights[0].title }]);
      const [anomaly] = await eventually(async () => {
        const mails = (await mailTo(email)).filter((m) => m.subject.startsWith('Unusual'));
        return mails.length ? mails : undefined;
      }, 20_000);
      expect(anomaly!.subject).toContain('REWE SAGT DANKE 4411');
      // The event that made it, and nothing else, was handled once each.
      await new Promise((r) => setTimeout(r, 3000));
      expect((await mailTo(email)).filter((m) => m.subject.startsWith('Unusual'))).toHaveLength(1);
      const anomalies = await sql<{ n: string }>(`select count(*) as n from "${run}_inference".outbox where topic = 'transactions.anomalous.v1'`);
      expect(Number(anomalies[0]!.n)).toBe(1);
      void id;
    } finally {
      await client.dispose();
    }
  }, 60_000);

  it('loses and doubles nothing when the inference worker is killed mid-stream', async () => {
    const worker = stack.services.get('inference-worker')!;
    const ids: string[] = [];
    // Payees the categoriser is sure about at these amounts (at least CATEGORY_MIN_CONFIDENCE): each must get one.
    const payees = ['NETFLIX.COM', 'ALDI SUED 112', 'PIZZERIA DA MARIO', 'DM DROGERIE MARKT', 'UBER TRIP', 'REWE SAGT DANKE 4411'];
    let killedAfter = -1;
    for (let n = 0; n < 60; n++) {
      ids.push(await record(`${payees[n % payees.length]}`, -(900 + n * 37), new Date(START + 32 * DAY + n * 600_000 + 12 * 3_600_000)));
      if (killedAfter < 0 && categorised.some((c) => ids.includes(c.transactionId))) {
        worker.child.kill('SIGKILL'); // while the rest keeps arriving
        killedAfter = n;
      }
    }
    expect(killedAfter).toBeGreaterThanOrEqual(0);
    expect(killedAfter).toBeLessThan(59);
    await worker.exited;
    const before = new Set(categorised.map((c) => c.transactionId));
    expect(ids.filter((id) => !before.has(id)).length).toBeGreaterThan(0); // some were left for the restarted worker
    // Started again with the same schema and topics.
    const port = await freePort();
    restarted = spawnService(
      'inference-worker-2',
      entryOf('inference-worker'),
      port,
      { ...isolatedRunEnv(run), LOG_LEVEL: 'info', DATABASE_SCHEMA: `${run}_inference`, METRICS_PORT: String(await freePort()) },
      path.join(repoRoot, '.data/test-logs', run),
    );
    await waitUntilReady(restarted);
    const mine = () => categorised.filter((c) => ids.includes(c.transactionId));
    await eventually(async () => (new Set(mine().map((c) => c.transactionId)).size === ids.length ? true : undefined), 90_000, 200);
    // Every transaction got exactly one suggestion: one event id each (a message the relay sent
    // again after the kill carries the same id), one row in the budget, and each shown.
    const eventIds = new Map<string, Set<string>>();
    for (const c of mine()) eventIds.set(c.transactionId, (eventIds.get(c.transactionId) ?? new Set()).add(c.eventId));
    expect([...eventIds.values()].map((s) => s.size)).toEqual(ids.map(() => 1));
    const storedCount = async () =>
      Number((await sql<{ n: string }>(`select count(*) as n from "${run}_budget".category_suggestions where transaction_id = any($1::uuid[])`, [ids]))[0]!.n);
    await eventually(async () => ((await storedCount()) === ids.length ? true : undefined), 20_000, 200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await storedCount()).toBe(ids.length);
    for (const id of ids) expect(await suggestionOf(id), id).not.toBeNull();
    const anomalyInsights = (await call('{ me { insights { kind } } }')).me.insights.filter((i: { kind: string }) => i.kind === 'ANOMALY');
    const anomalyEvents = await sql<{ n: string }>(
      `select count(distinct value::jsonb ->> 'transactionId') as n from "${run}_inference".outbox where topic = 'transactions.anomalous.v1'`,
    );
    expect(anomalyInsights).toHaveLength(Number(anomalyEvents[0]!.n));
  }, 180_000);
});
