import { randomUUID } from 'node:crypto';
import { claimEvent, type Event } from '@analytica/events';
import { formatMinorUnits } from '@analytica/money';
import type { EntityManager } from '@analytica/postgres';
import { InsightRecord } from '../insights/insight.entity.js';

/** The consumer name under which applied anomaly event ids are recorded. */
export const ANOMALY_CONSUMER = 'insight.anomalies';

/** Title and body of the ANOMALY insight (and of its email): the category by name, the payee, the score and the reason. */
export function describeAnomaly(p: Event<'transactions.anomalous.v1'>['payload']): { title: string; body: string } {
  const amount = `${formatMinorUnits(Math.abs(Number(p.amountMinor)), p.currency)} ${p.currency}`;
  const category = p.category ? `${p.category}${p.categorySuggested ? ' (suggested)' : ''}` : 'uncategorised';
  const score = p.score.toFixed(2);
  const title = `Unusual ${category} payment: ${amount} to ${p.payee} (score ${score})`;
  const body =
    `${p.reason}. ${amount} to ${p.payee} on ${p.bookedAt.slice(0, 16).replace('T', ' ')} UTC, in ${category}: ` +
    `the anomaly model (version ${p.modelVersion}) scored it ${score}, at or above its alert threshold of ${p.threshold.toFixed(2)}. ` +
    `If you do not recognise it, contact your bank.`;
  return { title, body };
}

/**
 * Makes one `transactions.anomalous.v1` an ANOMALY insight, once: the event id is claimed in the
 * same transaction, and the subject (the transaction) is unique per user, so that a redelivered
 * event or a second report of the same transaction adds nothing. Answers the insight it created
 * (for the live stream), or null.
 */
export async function recordAnomaly(em: EntityManager, event: Event<'transactions.anomalous.v1'>): Promise<InsightRecord | null> {
  const p = event.payload;
  const { title, body } = describeAnomaly(p);
  const created = await em.transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, ANOMALY_CONSUMER))) return null;
    const rows: { id: string }[] = await tx.getConnection().execute(
      `insert into insights (id, user_id, report_id, kind, subject, category_id, title, body, created_at)
       values (?, ?, null, 'ANOMALY', ?, null, ?, ?, ?)
       on conflict on constraint insights_subject do nothing
       returning id`,
      [randomUUID(), p.userId, `anomaly:${p.transactionId}`, title, body, new Date()],
      'all',
      tx.getTransactionContext(),
    );
    return rows[0]?.id ?? null;
  });
  return created ? em.fork().findOneOrFail(InsightRecord, { id: created }) : null;
}
