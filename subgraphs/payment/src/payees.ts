import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import type { EntityManager } from '@analytica/postgres';

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

export function payeeKey(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Records (or refreshes) a payee when a payment to them is queued, in the caller's transaction. */
export async function notePayee(tx: EntityManager, userId: string, name: string, at: Date) {
  await tx.getConnection().execute(
    `insert into payees (id, user_id, name, name_key, created_at, last_paid_at) values (?, ?, ?, ?, ?, ?)
     on conflict on constraint payees_name do update set last_paid_at = greatest(payees.last_paid_at, excluded.last_paid_at), name = excluded.name`,
    [randomUUID(), userId, name, payeeKey(name), at, at],
    'run',
    tx.getTransactionContext(),
  );
}

export function listPayees(em: EntityManager, userId: string): Promise<PayeeRecord[]> {
  return em.find(PayeeRecord, { userId }, { orderBy: { lastPaidAt: 'desc', id: 'asc' } });
}
