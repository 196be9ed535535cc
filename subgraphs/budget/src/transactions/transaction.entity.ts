import { ArrayType, BigIntType, EntitySchema } from '@mikro-orm/core';

export class TransactionRecord {
  id!: string;
  userId!: string;
  accountId!: string;
  /** Null when uncategorised, split (the parts carry categories) or a transfer leg. */
  categoryId: string | null = null;
  /** Signed minor units: negative is money leaving the account. */
  amount!: number;
  currency!: string;
  bookedAt!: Date;
  payee!: string;
  notes: string | null = null;
  /** Lower-case labels, e.g. "holiday"; filtered with "has all of". */
  tags: string[] = [];
  /** Shared by the two legs of a transfer between the user's own accounts. */
  transferId: string | null = null;
  scheduleId: string | null = null;
  /** The occurrence of the schedule this transaction posted (YYYY-MM-DD). */
  scheduledOn: string | null = null;
  importId: string | null = null;
  /** The bank's own id of the line (OFX FITID); unique per account. */
  externalId: string | null = null;
  /** Bumped by every update, so that a later edit can say which version it read. */
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;
}
export const TransactionSchema = new EntitySchema<TransactionRecord>({
  class: TransactionRecord,
  tableName: 'transactions',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    accountId: { type: 'uuid', fieldName: 'account_id' },
    categoryId: { type: 'uuid', fieldName: 'category_id', nullable: true },
    amount: { type: new BigIntType('number') },
    currency: { type: 'string' },
    bookedAt: { type: 'Date', fieldName: 'booked_at' },
    payee: { type: 'string' },
    notes: { type: 'text', nullable: true },
    tags: { type: new ArrayType(), columnType: 'text[]' },
    transferId: { type: 'uuid', fieldName: 'transfer_id', nullable: true },
    scheduleId: { type: 'uuid', fieldName: 'schedule_id', nullable: true },
    scheduledOn: { type: 'string', columnType: 'date', fieldName: 'scheduled_on', nullable: true },
    importId: { type: 'uuid', fieldName: 'import_id', nullable: true },
    externalId: { type: 'string', fieldName: 'external_id', nullable: true },
    version: { type: 'integer', version: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
  },
});

/** One part of a split transaction. */
export class SplitRecord {
  id!: string;
  userId!: string;
  transactionId!: string;
  position!: number;
  categoryId: string | null = null;
  amount!: number;
  notes: string | null = null;
}
export const SplitSchema = new EntitySchema<SplitRecord>({
  class: SplitRecord,
  tableName: 'transaction_splits',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    transactionId: { type: 'uuid', fieldName: 'transaction_id' },
    position: { type: 'smallint' },
    categoryId: { type: 'uuid', fieldName: 'category_id', nullable: true },
    amount: { type: new BigIntType('number') },
    notes: { type: 'text', nullable: true },
  },
});
