import { EntitySchema } from '@mikro-orm/core';

/** Someone the user has paid: a large payment to anyone else needs a one-time code first. */
export class PayeeRecord {
  id!: string;
  userId!: string;
  name!: string;
  /** The name folded for comparison: "ACME  Corp" and "acme corp" are one payee. */
  nameKey!: string;
  createdAt!: Date;
  lastPaidAt!: Date;
}
export const PayeeSchema = new EntitySchema<PayeeRecord>({
  class: PayeeRecord,
  tableName: 'payees',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    name: { type: 'string' },
    nameKey: { type: 'string', fieldName: 'name_key', hidden: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    lastPaidAt: { type: 'Date', fieldName: 'last_paid_at' },
  },
});
