import { allowLongerStatements, type EntityManager } from '@analytica/postgres';

/**
 * Writes to one account or one budget queue on purpose (its row is locked until the writer commits,
 * so that balances and overspending are exact under any concurrency): a burst of writes can wait
 * longer than the pool's lock_timeout and statement_timeout, which are meant for a request's own
 * statements. A transaction that is about to queue raises both for itself, to this bound.
 */
export const QUEUE_LIMITS = { statementTimeoutMs: 30_000, lockTimeoutMs: 25_000 } as const;

export async function queueOnRowLocks(tx: EntityManager): Promise<void> {
  if (tx.getTransactionContext()) await allowLongerStatements(tx, QUEUE_LIMITS);
}
