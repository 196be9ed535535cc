import { BigIntType, EntitySchema } from '@mikro-orm/core';

/**
 * The payment service's own book of money that left the user's accounts: one debit per succeeded
 * payment (unique payment_id), written in the SUCCEEDED transition's transaction.
 */
export class LedgerEntryRecord {
  id!: number;
  paymentId!: string;
  userId!: string;
  bankAccountId!: string;
  /** Negative: money out of the user's bank account. */
  amountMinor!: number;
  currency!: string;
  bankReference!: string;
  bookedAt!: Date;
}
export const LedgerEntrySchema = new EntitySchema<LedgerEntryRecord>({
  class: LedgerEntryRecord,
  tableName: 'ledger_entries',
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: true },
    paymentId: { type: 'uuid', fieldName: 'payment_id' },
    userId: { type: 'uuid', fieldName: 'user_id' },
    bankAccountId: { type: 'uuid', fieldName: 'bank_account_id' },
    amountMinor: { type: new BigIntType('number'), fieldName: 'amount_minor' },
    currency: { type: 'string' },
    bankReference: { type: 'string', fieldName: 'bank_reference' },
    bookedAt: { type: 'Date', fieldName: 'booked_at' },
  },
});
