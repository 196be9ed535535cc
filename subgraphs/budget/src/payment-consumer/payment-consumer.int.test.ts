import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, type EventBus, type EventPayload } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseBudgetEnv, startBudgetService } from '../index.js';
import { startPaymentConsumer } from './payment-consumer.js';

const schema = uniqueName('budget_payments_test');
const prefix = `${uniqueName('t')}.`;
const logger = createLogger('test', 'silent');
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startBudgetService>>;
let bus: EventBus;
let consumer: { stop(): Promise<void> };

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
      KAFKA_TOPIC_PREFIX: prefix,
    }),
  );
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'budget-payments-test', prefix, logger });
  consumer = await startPaymentConsumer({ db: service.db, bus, logger, retryDelaysMs: [50] });
});

afterAll(async () => {
  await consumer?.stop();
  await bus?.close();
  await service?.stop();
  await auth?.close();
  await dropSchema(schema);
});

const succeeded = (userId: string, paymentId = randomUUID()): EventPayload<'payments.status-changed.v1'> => ({
  userId,
  paymentId,
  bankAccountId: randomUUID(),
  status: 'SUCCEEDED',
  previousStatus: 'PROCESSING',
  reason: null,
  amountMinor: '2599',
  currency: 'EUR',
  payeeName: 'Landlord Ltd',
  reference: 'Rent May',
  bankReference: 'b-1',
  changedAt: '2026-05-01T09:30:00.000Z',
});

async function transactionsOf(userId: string) {
  return service.db.orm.em.getConnection().execute<{ account_name: string; amount: string; payee: string; notes: string; booked_at: Date }[]>(
    `select a.name as account_name, t.amount::text as amount, t.payee, t.notes, t.booked_at
         from transactions t join accounts a on a.id = t.account_id where t.user_id = ? order by t.created_at`,
    [userId],
  );
}

describe('booking succeeded payments in the budget', () => {
  it("books a succeeded payment once in the user's checking account, however often it arrives", async () => {
    const user = { id: randomUUID() };
    const token = auth.tokenFor(user);
    const opened = await gql(`${service.url}/graphql`, 'mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }', {
      token,
      variables: { input: { name: 'Everyday', type: 'CHECKING', currency: 'EUR' } },
    });
    expect(opened.errors).toBeUndefined();
    const payment = succeeded(user.id);
    const first = encodeEvent('payments.status-changed.v1', user.id, payment);
    await bus.publish('payments.status-changed.v1', [first, first, encodeEvent('payments.status-changed.v1', user.id, payment)]);
    await bus.publish('payments.status-changed.v1', [
      encodeEvent('payments.status-changed.v1', user.id, { ...payment, paymentId: randomUUID(), status: 'FAILED', previousStatus: 'PROCESSING' }),
    ]);
    const rows = await eventually(async () => {
      const found = await transactionsOf(user.id);
      return found.length ? found : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await transactionsOf(user.id)).toHaveLength(1);
    expect(rows[0]).toMatchObject({ account_name: 'Everyday', amount: '-2599', payee: 'Landlord Ltd', notes: `Rent May (payment ${payment.paymentId})` });
    expect(new Date(rows[0]!.booked_at).toISOString()).toBe('2026-05-01T09:30:00.000Z');
  });

  it('opens a "Bank payments" account for a user with no account in the payment\'s currency', async () => {
    const user = { id: randomUUID() };
    await bus.publish('payments.status-changed.v1', [encodeEvent('payments.status-changed.v1', user.id, succeeded(user.id))]);
    const rows = await eventually(async () => {
      const found = await transactionsOf(user.id);
      return found.length ? found : undefined;
    });
    expect(rows).toEqual([expect.objectContaining({ account_name: 'Bank payments (EUR)', amount: '-2599' })]);
  });
});
