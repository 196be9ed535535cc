import { badInput } from '@analytica/errors';
import { claimEvent, PermanentFailure, type Event } from '@analytica/events';
import type { EntityManager } from '@analytica/postgres';
import type { CashFlow, FlowLine } from '../insights/insight-rules.js';
import { formatDay } from '../periods.js';

/** The consumer name under which applied event ids are recorded. */
export const SPENDING_CONSUMER = 'insight';

const INT64_MAX = 2n ** 63n - 1n;

/**
 * Adds one recorded transaction to the user's daily totals, exactly once: the event id is claimed
 * in the same transaction as the upsert, so a redelivered event changes nothing. A negative amount
 * is money spent, anything else money received.
 */
export async function applyRecordedTransaction(em: EntityManager, event: Event<'transactions.recorded.v1'>): Promise<boolean> {
  const { userId, categoryId, currency, amountMinor, bookedAt } = event.payload;
  const amount = BigInt(amountMinor);
  // The contract allows any integer text; one that cannot be a bigint will never fit, so no retry.
  if (amount > INT64_MAX || amount < -INT64_MAX) throw new PermanentFailure(`amountMinor ${amountMinor} is out of range`);
  const flow: CashFlow = amount < 0n ? 'SPENDING' : 'INCOME';
  const magnitude = amount < 0n ? -amount : amount;
  const day = formatDay(new Date(bookedAt));
  return em.transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, SPENDING_CONSUMER))) return false;
    await tx.getConnection().execute(
      `insert into spending (user_id, day, category_id, currency, flow, total_minor, count)
       values (?, ?, ?, ?, ?, ?, 1)
       on conflict on constraint spending_key
       do update set total_minor = spending.total_minor + excluded.total_minor, count = spending.count + 1`,
      [userId, day, categoryId, currency, flow, magnitude.toString()],
      'run',
      tx.getTransactionContext(),
    );
    return true;
  });
}

/** The user's totals over [from, to) per direction, category and currency, from the daily aggregate. */
export async function flowsBetween(em: EntityManager, userId: string, from: Date, to: Date): Promise<FlowLine[]> {
  const rows: { flow: CashFlow; category_id: string | null; currency: string; total_minor: string; count: string }[] = await em.getConnection().execute(
    // sum() of bigint is numeric, exact at any size; the range is checked here, not by a cast
    // that would fail as an internal error.
    `select flow, category_id, currency, sum(total_minor)::text as total_minor, sum(count)::text as count
         from spending
        where user_id = ? and day >= ? and day < ?
        group by flow, category_id, currency
        order by flow, currency, sum(total_minor) desc, category_id nulls last`,
    [userId, formatDay(from), formatDay(to)],
    'all',
    em.getTransactionContext(),
  );
  return rows.map((row) => ({
    flow: row.flow,
    categoryId: row.category_id,
    currency: row.currency,
    totalMinor: toSafeNumber(row.total_minor, `The ${row.flow.toLowerCase()} of one category in ${row.currency}`),
    count: toSafeNumber(row.count, 'The number of transactions of one category'),
  }));
}

/** A total beyond the exact range cannot be reported without rounding: the caller is told so (BAD_USER_INPUT), never an internal error. */
function toSafeNumber(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw beyondExactRange(what);
  return value;
}

const beyondExactRange = (what: string) =>
  badInput('startsOn', `${what} in this period is beyond ${Number.MAX_SAFE_INTEGER} minor units, more than can be reported exactly; report a shorter period.`);
