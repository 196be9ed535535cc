import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, encodeEvent, HEADER, type EventBus, type EventPayload } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseBudgetEnv, startBudgetService } from '../index.js';

const schema = uniqueName('budget_suggestions_test');
const prefix = `${uniqueName('t')}.`;
const logger = createLogger('test', 'silent');
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startBudgetService>>;
let bus: EventBus;

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
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'budget-suggestions-test', prefix, logger });
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await service?.stop();
  await auth?.close();
  await dropSchema(schema);
});

const TRANSACTION = `id version category { name } suggestedCategory { name confidence modelVersion category { id name } }`;

async function call(token: string, query: string, variables: Record<string, unknown> = {}) {
  return gql(`${service.url}/graphql`, query, { token, variables });
}

/** A user with an account, the default categories and one uncategorised transaction. */
async function userWithTransaction(payee = 'REWE SAGT DANKE 4411') {
  const user = { id: randomUUID() };
  const token = auth.tokenFor(user);
  const opened = await call(token, 'mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }', {
    input: { name: 'Everyday', type: 'CHECKING', currency: 'EUR' },
  });
  const categories = await call(token, '{ _entities(representations: [{ __typename: "User", id: "' + user.id + '" }]) { ... on User { categories { id name } } } }');
  const recorded = await call(token, `mutation($input: RecordTransactionInput!) { recordTransaction(input: $input) { ${TRANSACTION} } }`, {
    input: { accountId: opened.data.openAccount.id, amount: { amountMinor: -3245, currency: 'EUR' }, bookedAt: '2026-03-02T10:15:00Z', payee },
  });
  expect(recorded.errors).toBeUndefined();
  const byName = new Map((categories.data._entities[0].categories as { id: string; name: string }[]).map((c) => [c.name, c.id]));
  return { user, token, transaction: recorded.data.recordTransaction as { id: string; version: number }, categoryId: (name: string) => byName.get(name)! };
}

const suggestion = (userId: string, transactionId: string, fields: Partial<EventPayload<'transactions.categorised.v1'>> = {}): EventPayload<'transactions.categorised.v1'> => ({
  userId,
  transactionId,
  transactionVersion: 1,
  category: 'Groceries',
  confidence: 0.93,
  alternatives: [{ category: 'Restaurants', confidence: 0.04 }],
  model: 'categoriser',
  modelVersion: 'c03133cb179f',
  suggestedAt: new Date().toISOString(),
  ...fields,
});

async function publish(userId: string, payloads: EventPayload<'transactions.categorised.v1'>[], ids?: string[]) {
  const messages = payloads.map((p, i) => encodeEvent('transactions.categorised.v1', userId, p, ids?.[i]));
  await bus.publish('transactions.categorised.v1', messages);
  return messages.map((m) => m.headers[HEADER.id]!);
}

async function transactionOf(token: string, id: string) {
  const response = await call(token, `query($id: ID!) { transaction(id: $id) { ${TRANSACTION} } }`, { id });
  expect(response.errors).toBeUndefined();
  return response.data.transaction;
}

async function labelsOf(userId: string) {
  return service.db.orm.em
    .getConnection()
    .execute<{ source: string; category_name: string; suggested_label: string; payee: string }[]>(
      'select source, category_name, suggested_label, payee from category_labels where user_id = ? order by created_at',
      [userId],
    );
}

/** Waits until the consumer has handled this many events (processed_events holds their ids). */
async function handled(ids: string[]) {
  await eventually(async () => {
    const rows = await service.db.orm.em
      .getConnection()
      .execute<{ n: string }[]>(`select count(*) as n from processed_events where consumer = 'budget.suggestions' and event_id in (${ids.map(() => '?').join(', ')})`, ids);
    return Number(rows[0]!.n) === ids.length ? true : undefined;
  }, 15_000);
}

describe('category suggestions in the budget', () => {
  it("shows a suggestion on the uncategorised transaction, matched to the user's category, once however often it arrives", async () => {
    const { user, token, transaction, categoryId } = await userWithTransaction();
    expect(transaction).toMatchObject({ category: null, suggestedCategory: null });
    const payload = suggestion(user.id, transaction.id);
    const [id] = await publish(user.id, [payload]);
    await publish(user.id, [payload, payload], [id!, id!]);
    const shown = await eventually(async () => (await transactionOf(token, transaction.id)).suggestedCategory ?? undefined, 15_000);
    expect(shown).toEqual({ name: 'Groceries', confidence: 0.93, modelVersion: 'c03133cb179f', category: { id: categoryId('Groceries'), name: 'Groceries' } });
    // "Restaurants" is the model's name for the default "Eating out".
    const other = await userWithTransaction('PIZZERIA DA MARIO');
    await publish(other.user.id, [suggestion(other.user.id, other.transaction.id, { category: 'Restaurants' })]);
    const matched = await eventually(async () => (await transactionOf(other.token, other.transaction.id)).suggestedCategory ?? undefined, 15_000);
    expect(matched.category).toEqual({ id: other.categoryId('Eating out'), name: 'Eating out' });
  });

  it('ignores a suggestion for an older version of the transaction and for one the user categorised meanwhile', async () => {
    const { user, token, transaction, categoryId } = await userWithTransaction();
    const edited = await call(token, `mutation($id: ID!) { updateTransaction(id: $id, expectedVersion: 1, input: { notes: "lunch" }) { version } }`, { id: transaction.id });
    expect(edited.data.updateTransaction.version).toBe(2);
    const stale = await publish(user.id, [suggestion(user.id, transaction.id, { transactionVersion: 1 })]);
    await handled(stale);
    expect((await transactionOf(token, transaction.id)).suggestedCategory).toBeNull();
    // The newer version's suggestion is taken; an older one arriving after it does not replace it.
    const newer = await publish(user.id, [
      suggestion(user.id, transaction.id, { transactionVersion: 2, category: 'Shopping' }),
      suggestion(user.id, transaction.id, { transactionVersion: 1 }),
    ]);
    await handled(newer);
    expect((await transactionOf(token, transaction.id)).suggestedCategory.name).toBe('Shopping');

    const second = await userWithTransaction();
    await call(second.token, `mutation($ids: [ID!]!, $c: ID) { recategorizeTransactions(ids: $ids, categoryId: $c) { id } }`, {
      ids: [second.transaction.id],
      c: second.categoryId('Health'),
    });
    const late = await publish(second.user.id, [suggestion(second.user.id, second.transaction.id, { transactionVersion: 1 })]);
    await handled(late);
    const row = await service.db.orm.em.getConnection().execute('select * from category_suggestions where transaction_id = ?', [second.transaction.id]);
    expect(row).toHaveLength(0);
    void categoryId;
  });

  it("applies an accepted suggestion and records the label; NOT_FOUND for another user's transaction", async () => {
    const { user, token, transaction, categoryId } = await userWithTransaction();
    await handled(await publish(user.id, [suggestion(user.id, transaction.id)]));
    const stranger = auth.tokenFor({ id: randomUUID() });
    const refused = await call(stranger, `mutation($id: ID!) { acceptSuggestedCategory(transactionId: $id) { id } }`, { id: transaction.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const accepted = await call(token, `mutation($id: ID!) { acceptSuggestedCategory(transactionId: $id) { ${TRANSACTION} } }`, { id: transaction.id });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data.acceptSuggestedCategory).toMatchObject({ version: 2, category: { name: 'Groceries' }, suggestedCategory: null });
    expect(await labelsOf(user.id)).toEqual([{ source: 'ACCEPTED', category_name: 'Groceries', suggested_label: 'Groceries', payee: 'REWE SAGT DANKE 4411' }]);
    const again = await call(token, `mutation($id: ID!) { acceptSuggestedCategory(transactionId: $id) { id } }`, { id: transaction.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // The change went out as transactions.updated.v1 with the category, like any recategorisation.
    const outbox = await service.db.orm.em
      .getConnection()
      .execute<{ value: string }[]>(`select value from outbox where topic = 'transactions.updated.v1' and value::jsonb ->> 'transactionId' = ?`, [transaction.id]);
    expect(outbox.map((o) => JSON.parse(o.value).categoryId)).toEqual([categoryId('Groceries')]);

    // A class the user has no category for becomes one when accepted.
    const travel = await userWithTransaction('DB FERNVERKEHR');
    await handled(await publish(travel.user.id, [suggestion(travel.user.id, travel.transaction.id, { category: 'Travel' })]));
    expect((await transactionOf(travel.token, travel.transaction.id)).suggestedCategory).toMatchObject({ name: 'Travel', category: null });
    const made = await call(travel.token, `mutation($id: ID!) { acceptSuggestedCategory(transactionId: $id) { category { name group } } }`, { id: travel.transaction.id });
    expect(made.data.acceptSuggestedCategory.category).toEqual({ name: 'Travel', group: 'Suggested' });
  });

  it('records a correction when the user chooses another category', async () => {
    const { user, token, transaction, categoryId } = await userWithTransaction();
    await handled(await publish(user.id, [suggestion(user.id, transaction.id)]));
    const corrected = await call(token, `mutation($id: ID!, $c: ID) { updateTransaction(id: $id, expectedVersion: 1, input: { categoryId: $c }) { ${TRANSACTION} } }`, {
      id: transaction.id,
      c: categoryId('Eating out'),
    });
    expect(corrected.errors).toBeUndefined();
    expect(corrected.data.updateTransaction.suggestedCategory).toBeNull();
    expect(await labelsOf(user.id)).toEqual([{ source: 'CORRECTED', category_name: 'Eating out', suggested_label: 'Groceries', payee: 'REWE SAGT DANKE 4411' }]);
  });

  it('applies confident suggestions at once for a user who opted in, and only those', async () => {
    const { user, token, transaction } = await userWithTransaction();
    const preferences = await call(
      token,
      `{ _entities(representations: [{ __typename: "User", id: "${user.id}" }]) { ... on User { suggestionPreferences { autoApply minConfidence } } } }`,
    );
    expect(preferences.data._entities[0].suggestionPreferences).toEqual({ autoApply: false, minConfidence: 0.9 });
    const set = await call(token, 'mutation { setSuggestionPreferences(input: { autoApply: true, minConfidence: 0.8 }) { autoApply minConfidence } }');
    expect(set.data.setSuggestionPreferences).toEqual({ autoApply: true, minConfidence: 0.8 });
    const bad = await call(token, 'mutation { setSuggestionPreferences(input: { autoApply: true, minConfidence: 0.2 }) { autoApply } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await handled(await publish(user.id, [suggestion(user.id, transaction.id, { confidence: 0.85 })]));
    expect(await transactionOf(token, transaction.id)).toMatchObject({ version: 2, category: { name: 'Groceries' }, suggestedCategory: null });
    expect(await labelsOf(user.id)).toEqual([]); // the model's own choice is no label

    const unsure = await userWithTransaction();
    await call(unsure.token, 'mutation { setSuggestionPreferences(input: { autoApply: true }) { autoApply } }');
    await handled(await publish(unsure.user.id, [suggestion(unsure.user.id, unsure.transaction.id, { confidence: 0.85 })]));
    expect(await transactionOf(unsure.token, unsure.transaction.id)).toMatchObject({ version: 1, category: null, suggestedCategory: { name: 'Groceries' } });
  });
});
