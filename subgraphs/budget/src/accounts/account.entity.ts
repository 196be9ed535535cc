import { BigIntType, EntitySchema } from '@mikro-orm/core';

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
