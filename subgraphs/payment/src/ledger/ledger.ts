import type { EntityManager } from '@analytica/postgres';
import { LedgerEntryRecord } from './ledger-entry.entity.js';

/** The debit of a succeeded payment, in the transaction of its SUCCEEDED transition. */
export function bookDebit(tx: EntityManager, entry: Omit<LedgerEntryRecord, 'id'>) {
  return tx.create(LedgerEntryRecord, entry as LedgerEntryRecord);
}
