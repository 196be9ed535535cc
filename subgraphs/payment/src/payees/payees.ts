import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@analytica/postgres';
import { PayeeRecord } from './payee.entity.js';

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
