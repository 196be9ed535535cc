import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, HEADER, type EventBus, type EventPayload, type ReceivedMessage, type Topic } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { committedArtefacts, parseInferenceEnv, startInferenceWorker } from './index.js';

const schema = uniqueName('inference_test');
const prefix = `${uniqueName('t')}.`;
const logger = createLogger('test', 'silent');
let worker: Awaited<ReturnType<typeof startInferenceWorker>>;
let bus: EventBus;
const seen: Record<'categorised' | 'anomalous', ReceivedMessage[]> = { categorised: [], anomalous: [] };
const watches: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  worker = await startInferenceWorker(
    parseInferenceEnv({
      LOG_LEVEL: 'silent',
      PORT: '0',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: prefix,
      INFERENCE_RETRY_DELAYS_MS: '50,100',
    }),
  );
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'inference-test', prefix, logger });
  watches.push(await bus.consume({ groupId: 'watch-categorised', topics: ['transactions.categorised.v1'], handle: async (m) => void seen.categorised.push(m) }));
  watches.push(await bus.consume({ groupId: 'watch-anomalous', topics: ['transactions.anomalous.v1'], handle: async (m) => void seen.anomalous.push(m) }));
}, 120_000);

afterAll(async () => {
  for (const w of watches) await w.stop();
  await bus?.close();
  await worker?.stop();
  await dropSchema(schema);
});

async function publish<T extends Topic>(topic: T, key: string, payloads: EventPayload<T>[], ids?: string[]) {
  const messages = payloads.map((p, i) => encodeEvent(topic, key, p, ids?.[i]));
  await bus.publish(topic, messages);
  return messages.map((m) => m.headers[HEADER.id]!);
}

const recorded = (
  fields: Partial<EventPayload<'transactions.recorded.v1'>> & { userId: string; payee: string; amountMinor: string },
): EventPayload<'transactions.recorded.v1'> => ({
  transactionId: randomUUID(),
  accountId: 'acc-1',
  categoryId: null,
  currency: 'EUR',
  bookedAt: '2025-06-03T10:15:00.000Z',
  splits: [],
  transferId: null,
  ...fields,
});

const payloadsOf = <T extends Topic>(messages: ReceivedMessage[], userId: string) =>
  messages.map((m) => JSON.parse(m.value) as EventPayload<T>).filter((p) => (p as { userId: string }).userId === userId);

describe('the inference worker', () => {
  it('suggests a category for an uncategorised transaction, and none where the rules chose one or for a transfer', async () => {
    const userId = randomUUID();
    const open = recorded({ userId, payee: 'REWE SAGT DANKE 4411', amountMinor: '-3245' });
    const ruled = recorded({ userId, payee: 'REWE SAGT DANKE 4411', amountMinor: '-1999', categoryId: 'cat-groceries' });
    const transfer = recorded({ userId, payee: 'Savings', amountMinor: '-50000', transferId: randomUUID() });
    const split = recorded({
      userId,
      payee: 'IKEA',
      amountMinor: '-9000',
      splits: [
        { categoryId: 'a', amountMinor: '-4000' },
        { categoryId: 'b', amountMinor: '-5000' },
      ],
    });
    await publish('transactions.recorded.v1', userId, [open, ruled, transfer, split]);
    const [suggestion] = await eventually(async () => {
      const mine = payloadsOf<'transactions.categorised.v1'>(seen.categorised, userId);
      return mine.length ? mine : undefined;
    }, 20_000);
    expect(suggestion).toMatchObject({
      transactionId: open.transactionId,
      transactionVersion: 1,
      category: 'Groceries',
      model: 'categoriser',
      modelVersion: worker.models.categoriser.version,
    });
    expect(suggestion!.confidence).toBeGreaterThan(0.5);
    // The later three were handled too (same partition, in order): still only one suggestion.
    await eventually(async () => ((await metric(`inference_events_total{topic="transactions.recorded.v1"`)) >= 4 ? true : undefined), 20_000);
    expect(payloadsOf(seen.categorised, userId)).toHaveLength(1);
  });

  it('reports exactly the anomalies the Python model found when replaying held-out users, and no second time on redelivery', async () => {
    const version = worker.models.anomaly.version;
    const parity = JSON.parse(await readFile(path.join(committedArtefacts, 'anomaly', version, 'parity.json'), 'utf8')) as {
      inputs: { userId: string; categoryKey: string; payee: string; amountMinor: number; bookedAt: string }[];
      expected: { score: number }[];
    };
    const run = randomUUID();
    const users = new Map<string, string>();
    const byUser = new Map<string, EventPayload<'transactions.recorded.v1'>[]>();
    const expected = new Set<string>();
    parity.inputs.forEach((input, i) => {
      const userId = users.get(input.userId) ?? `${run}-${input.userId}`;
      users.set(input.userId, userId);
      const [category, currency] = input.categoryKey.split('/') as [string, string];
      const payload = recorded({ userId, payee: input.payee, amountMinor: String(input.amountMinor), bookedAt: input.bookedAt, categoryId: category, currency });
      byUser.set(userId, [...(byUser.get(userId) ?? []), payload]);
      if (parity.expected[i]!.score >= worker.models.anomaly.threshold) expected.add(payload.transactionId);
    });
    expect(expected.size).toBeGreaterThan(5);
    const ids: string[] = [];
    for (const [userId, payloads] of byUser) ids.push(...(await publish('transactions.recorded.v1', userId, payloads)));
    const mine = () => seen.anomalous.map((m) => JSON.parse(m.value) as EventPayload<'transactions.anomalous.v1'>).filter((p) => p.userId.startsWith(run));
    await eventually(async () => (mine().length >= expected.size ? true : undefined), 60_000, 200);
    // Everything handled: then the set is complete and exact.
    await eventually(async () => ((await metric('inference_events_total{topic="transactions.recorded.v1"')) >= 4 + parity.inputs.length ? true : undefined), 60_000, 200);
    expect(new Set(mine().map((p) => p.transactionId))).toEqual(expected);
    expect(mine()).toHaveLength(expected.size);
    for (const p of mine()) {
      expect(p.score).toBeGreaterThanOrEqual(p.threshold);
      expect(p.reason.length).toBeGreaterThan(10);
      expect(p.modelVersion).toBe(version);
    }

    // The same events again (same ids, as after a crash before the offset commit): nothing new.
    const [first] = byUser.entries();
    await publish('transactions.recorded.v1', first![0], first![1], ids.slice(0, first![1].length));
    await eventually(
      async () => ((await metric('inference_events_total{topic="transactions.recorded.v1",outcome="duplicate"')) >= first![1].length ? true : undefined),
      60_000,
      200,
    );
    expect(mine()).toHaveLength(expected.size);
  }, 120_000);

  it('suggests again for an edited transaction that is still uncategorised, with the edit version', async () => {
    const userId = randomUUID();
    const transactionId = randomUUID();
    await publish('transactions.updated.v1', userId, [
      {
        userId,
        transactionId,
        version: 3,
        accountId: 'acc-1',
        categoryId: null,
        amountMinor: '-6480',
        currency: 'EUR',
        payee: 'SHELL 1234 MUENCHEN',
        bookedAt: '2025-06-04T17:40:00.000Z',
        splits: [],
        previous: { accountId: 'acc-1', categoryId: null, amountMinor: '-6480', currency: 'EUR', bookedAt: '2025-06-04T17:40:00.000Z', splits: [] },
      },
    ]);
    const [suggestion] = await eventually(async () => {
      const mine = payloadsOf<'transactions.categorised.v1'>(seen.categorised, userId);
      return mine.length ? mine : undefined;
    }, 20_000);
    expect(suggestion).toMatchObject({ transactionId, transactionVersion: 3, category: 'Fuel' });
  });

  it('answers POST /predict from the same models, and refuses bad input with the field', async () => {
    const answer = await fetch(`${worker.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payee: 'NETFLIX.COM', amountMinor: -1299, bookedAt: '2025-03-05T03:00:00Z' }),
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { category: unknown; anomaly: unknown };
    expect(body.category).toMatchObject({ category: 'Subscriptions', modelVersion: worker.models.categoriser.version });
    expect(body.anomaly).toMatchObject({ modelVersion: worker.models.anomaly.version, historySize: 0 });
    const income = await (
      await fetch(`${worker.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payee: 'GEHALT SIEMENS AG', amountMinor: '250000' }),
      })
    ).json();
    expect(income).toMatchObject({ category: { category: 'Salary' }, anomaly: null });
    const bad = await fetch(`${worker.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payee: 'X', amountMinor: 0 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: unknown }).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amountMinor' });
    const metrics = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/inference_latency_seconds_bucket{.*model="categoriser"/);
    expect(metrics).toContain(`inference_model_info{model="anomaly",version="${worker.models.anomaly.version}"`);
    expect(metrics).toContain('inference_events_per_second');
  });
});

/** Sums the samples of a counter whose line starts with `selector` (labels may follow). */
async function metric(selector: string): Promise<number> {
  const text = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(selector))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
