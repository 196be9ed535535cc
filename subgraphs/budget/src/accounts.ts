import { randomUUID } from 'node:crypto';
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { badInput } from '@analytica/errors';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { minorUnitsFromSql } from './access.js';

export const ACCOUNT_TYPES = ['CHECKING', 'SAVINGS', 'CREDIT_CARD', 'CASH', 'INVESTMENT'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

export class AccountRecord {
  id!: string;
  userId!: string;
  name!: string;
  type!: AccountType;
  currency!: string;
  /** Minor units; negative for a credit card that starts in debt. */
  openingBalance!: number;
  createdAt!: Date;
  archivedAt: Date | null = null;
}
export const AccountSchema = new EntitySchema<AccountRecord>({
  class: AccountRecord,
  tableName: 'accounts',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    name: { type: 'string' },
    type: { type: 'string' },
    currency: { type: 'string' },
    // 'number' mode: pg hands bigint over as text; amounts are kept below 2^53 so a number is exact.
    openingBalance: { type: new BigIntType('number'), fieldName: 'opening_balance' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    archivedAt: { type: 'Date', fieldName: 'archived_at', nullable: true },
  },
});

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
