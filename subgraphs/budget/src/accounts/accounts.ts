import { randomUUID } from 'node:crypto';
import { badInput } from '@analytica/errors';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { minorUnitsFromSql } from '../access.js';
import { ACCOUNT_TYPES, AccountRecord, type AccountType } from './account.entity.js';

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
