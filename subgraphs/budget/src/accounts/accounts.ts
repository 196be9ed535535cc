import { randomUUID } from 'node:crypto';
import { badInput } from '@analytica/errors';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { minorUnitsFromSql } from '../access.js';
import { ACCOUNT_TYPES, AccountRecord, type AccountType } from './account.entity.js';
import { queueOnRowLocks } from '../locks.js';

export interface AccountOpening {
  name: string;
  type: AccountType;
  currency: string;
  openingBalance?: { amountMinor: number; currency: string } | null;
}

export async function openAccount(em: EntityManager, userId: string, input: AccountOpening): Promise<AccountRecord> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) throw badInput('input.name', 'Give the account a name of 1 to 100 characters.');
  if (!ACCOUNT_TYPES.includes(input.type)) throw badInput('input.type', `Use one of ${ACCOUNT_TYPES.join(', ')}.`);
  const currency = assertCurrency(input.currency, 'input.currency');
  let openingBalance = 0;
  if (input.openingBalance) {
    openingBalance = assertMinorUnits(input.openingBalance.amountMinor, 'input.openingBalance.amountMinor');
    if (input.openingBalance.currency !== currency) {
      throw badInput('input.openingBalance.currency', `The opening balance must be in the account's currency, ${currency}.`);
    }
  }
  return em.transactional(async (tx) =>
    tx.create(AccountRecord, { id: randomUUID(), userId, name, type: input.type, currency, openingBalance, createdAt: new Date(), archivedAt: null }),
  );
}

/**
 * Opening balance plus every transaction of each account, summed exactly in SQL, in one statement.
 * One placeholder per id: the driver layer expands an array binding into a list, which `any(?)` cannot take.
 */
export async function accountBalances(em: EntityManager, accountIds: readonly string[]): Promise<Map<string, number>> {
  const rows: { id: string; balance: string }[] = await em.getConnection().execute(
    `select a.id, (a.opening_balance + coalesce(sum(t.amount), 0))::text as balance
       from accounts a
       left join transactions t on t.user_id = a.user_id and t.account_id = a.id
      where a.id in (${accountIds.map(() => '?').join(', ')})
      group by a.id`,
    [...accountIds],
    'all',
    em.getTransactionContext(),
  );
  return new Map(rows.map((r) => [r.id, minorUnitsFromSql(r.balance)]));
}

/**
 * Refuses a write that would take an account's balance (opening balance plus every transaction)
 * beyond ±Number.MAX_SAFE_INTEGER minor units, which no client could read back exactly: call it
 * inside the write's database transaction, after its rows are flushed, so that a refusal writes
 * nothing. The accounts are locked first (in id order), and the sum is a statement of its own, so
 * that it sees every write committed before the lock was granted.
 */
export async function assertBalancesExact(em: EntityManager, accountIds: readonly string[], field: string): Promise<void> {
  const ids = [...new Set(accountIds)].sort();
  if (!ids.length) return;
  const list = ids.map(() => '?').join(', ');
  const connection = em.getConnection();
  await queueOnRowLocks(em);
  // Writers of one account take turns for the check (the sum below then sees what the one before
  // committed). FOR NO KEY UPDATE, not FOR UPDATE: the rows this transaction already inserted hold
  // a FOR KEY SHARE lock on their account (the foreign key), which FOR UPDATE would wait on in
  // another writer, and two writers would deadlock; FOR NO KEY UPDATE does not conflict with it.
  await connection.execute(`select id from accounts where id in (${list}) order by id for no key update`, ids, 'all', em.getTransactionContext());
  const beyond: { id: string }[] = await connection.execute(
    `select a.id
       from accounts a
       left join transactions t on t.user_id = a.user_id and t.account_id = a.id
      where a.id in (${list})
      group by a.id, a.opening_balance
     having abs(a.opening_balance + coalesce(sum(t.amount), 0)) > ${Number.MAX_SAFE_INTEGER}`,
    ids,
    'all',
    em.getTransactionContext(),
  );
  if (beyond.length) {
    throw badInput(field, `This would take the account's balance beyond ${Number.MAX_SAFE_INTEGER} minor units, more than can be kept exactly; nothing was written.`);
  }
}
