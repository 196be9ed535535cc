import { badInput } from '@analytica/errors';
import { claimEvent, PermanentFailure, type Event } from '@analytica/events';
import type { EntityManager } from '@analytica/postgres';
import { totalsByCurrency, type CashFlow, type FlowLine, type MonthTotals } from '../insights/insight-rules.js';
import { rememberCategoryNames, type CategoryName } from '../category-names.js';
import { refreshForecasts } from '../forecasts/forecasts.js';
import { formatDay } from '../periods.js';

/** The consumer name under which applied event ids are recorded (for all three transaction topics: event ids are unique). */
export const SPENDING_CONSUMER = 'insight';
/** Kafka consumer groups of the edit and delete topics (one group per topic). */
export const UPDATES_GROUP = 'insight.transaction-updates';
export const DELETIONS_GROUP = 'insight.transaction-deletions';

const INT64_MAX = 2n ** 63n - 1n;

/** What one transaction adds to the daily aggregate: one row per (day, category, currency, flow). */
interface Contribution {
  day: string;
  categoryId: string | null;
  currency: string;
  flow: CashFlow;
  /** Positive minor units, as text (bigint). */
  totalMinor: string;
}

/** The fields of a transaction, as the recorded, updated and deleted events carry them. */
interface LedgerState {
  amountMinor: string;
  currency: string;
  bookedAt: string;
  categoryId: string | null;
  splits?: readonly { categoryId: string | null; amountMinor: string }[] | undefined;
  transferId?: string | null | undefined;
}

function checkedAmount(amountMinor: string): bigint {
  const amount = BigInt(amountMinor);
  // The contract allows any integer text; one that cannot be a bigint will never fit, so no retry.
  if (amount > INT64_MAX || amount < -INT64_MAX) throw new PermanentFailure(`amountMinor ${amountMinor} is out of range`);
  return amount;
}

/**
 * What a transaction counts for in reports, the ledger's own rule (budget's `transaction_lines`):
 * - a transfer leg (transferId) is money moved between the user's own accounts: neither income
 *   nor spending, so nothing;
 * - a split transaction counts each part in the part's own category (parts of one category merge
 *   into one line, so the transaction counts once there);
 * - anything else counts whole in its category. A negative amount is money spent, anything else
 *   money received; totals are positive in both directions.
 */
export function contributionsOf(state: LedgerState): Contribution[] {
  const total = checkedAmount(state.amountMinor);
  if (state.transferId) return [];
  const day = formatDay(new Date(state.bookedAt));
  const parts = state.splits?.length
    ? state.splits.map((s) => ({ categoryId: s.categoryId, amount: checkedAmount(s.amountMinor) }))
    : [{ categoryId: state.categoryId, amount: total }];
  const merged = new Map<string, Contribution & { sum: bigint }>();
  for (const part of parts) {
    const flow: CashFlow = part.amount < 0n ? 'SPENDING' : 'INCOME';
    const key = `${flow}:${part.categoryId ?? ''}`;
    const line = merged.get(key) ?? { day, categoryId: part.categoryId, currency: state.currency, flow, totalMinor: '0', sum: 0n };
    line.sum += part.amount < 0n ? -part.amount : part.amount;
    merged.set(key, line);
  }
  return [...merged.values()].map(({ sum, ...line }) => ({ ...line, totalMinor: sum.toString() }));
}

type TransactionTopic = 'transactions.recorded.v1' | 'transactions.updated.v1' | 'transactions.deleted.v1';

/** The newest state of a transaction that an event says, or that it is gone (`deleted`). */
type Change = { version: number; state: LedgerState } | { deleted: true };

/** How budget forecasts are refreshed with the totals: the clock they are made at, and where to put the ids of insights they created. */
export interface ForecastOptions {
  now?: Date;
  created?: string[];
}

/**
 * Applies one event about a transaction to the daily totals, exactly once and in version order:
 * - the event id is claimed in the same database transaction, so a redelivered event changes nothing;
 * - insight keeps what it counted for each transaction (`ledger_transactions`), so an edit takes
 *   back exactly the old lines and adds the new ones, and a delete takes back what was counted;
 * - recorded is version 1, an edit carries its version, a delete is final: an event older than
 *   what was applied (the topics are separate, so a retried recorded event can arrive after an
 *   edit, or after the delete) changes nothing.
 * Answers whether the totals changed.
 */
async function applyChange(
  em: EntityManager,
  event: Event<TransactionTopic>,
  userId: string,
  transactionId: string,
  change: Change,
  names: CategoryName[],
  options: ForecastOptions,
): Promise<boolean> {
  return em.transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, SPENDING_CONSUMER))) return false;
    const connection = tx.getConnection();
    const trx = tx.getTransactionContext();
    const run = (sql: string, params: unknown[]) => connection.execute(sql, params, 'run', trx);
    await rememberCategoryNames(tx, userId, names, event.occurredAt);
    // Two events of one transaction (on two topics) queue on this row.
    await run(
      `insert into ledger_transactions (user_id, transaction_id, version, deleted, transfer, contributions) values (?, ?, 0, false, false, '[]')
       on conflict on constraint ledger_transactions_key do nothing`,
      [userId, transactionId],
    );
    const [row]: { version: number; deleted: boolean; transfer: boolean; contributions: Contribution[] }[] = await connection.execute(
      'select version, deleted, transfer, contributions from ledger_transactions where user_id = ? and transaction_id = ? for update',
      [userId, transactionId],
      'all',
      trx,
    );
    if (!row || row.deleted) return false;
    if (!('deleted' in change) && change.version <= row.version) return false;
    for (const line of row.contributions) {
      const key = [userId, line.day, line.categoryId, line.currency, line.flow];
      const where = 'user_id = ? and day = ? and category_id is not distinct from ? and currency = ? and flow = ?';
      await run(`delete from spending where ${where} and count = 1`, key);
      await run(`update spending set total_minor = total_minor - ?, count = count - 1 where ${where}`, [line.totalMinor, ...key]);
    }
    // A transfer leg stays one (budget cannot change that), also when an event leaves transferId out.
    const transfer = row.transfer || ('state' in change && !!change.state.transferId);
    const contributions = 'deleted' in change || transfer ? [] : contributionsOf(change.state);
    for (const line of contributions) {
      await run(
        `insert into spending (user_id, day, category_id, currency, flow, total_minor, count)
         values (?, ?, ?, ?, ?, ?, 1)
         on conflict on constraint spending_key
         do update set total_minor = spending.total_minor + excluded.total_minor, count = spending.count + 1`,
        [userId, line.day, line.categoryId, line.currency, line.flow, line.totalMinor],
      );
    }
    await run('update ledger_transactions set version = ?, deleted = ?, transfer = ?, contributions = ?::jsonb where user_id = ? and transaction_id = ?', [
      'deleted' in change ? row.version : change.version,
      'deleted' in change,
      transfer,
      JSON.stringify(contributions),
      userId,
      transactionId,
    ]);
    // The budgets of every category the transaction counted in before or counts in now.
    const touched = [...row.contributions, ...contributions].map((l) => l.categoryId);
    options.created?.push(...(await refreshForecasts(tx, userId, touched, options.now ?? new Date())));
    return true;
  });
}

/** A recorded transaction (version 1) into the daily totals; see applyChange. */
export async function applyRecordedTransaction(em: EntityManager, event: Event<'transactions.recorded.v1'>, options: ForecastOptions = {}): Promise<boolean> {
  const p = event.payload;
  const names = p.categoryId && p.categoryName ? [{ categoryId: p.categoryId, name: p.categoryName }] : [];
  // Checked before anything is claimed: an amount that can never fit goes to the dead-letter topic.
  contributionsOf(p);
  return applyChange(em, event, p.userId, p.transactionId, { version: 1, state: p }, names, options);
}

/** An edited transaction: its old lines out, its new lines in; see applyChange. */
export async function applyUpdatedTransaction(em: EntityManager, event: Event<'transactions.updated.v1'>, options: ForecastOptions = {}): Promise<boolean> {
  const p = event.payload;
  contributionsOf(p);
  return applyChange(em, event, p.userId, p.transactionId, { version: p.version, state: p }, [], options);
}

/** A deleted transaction: what it counted for is taken back, and nothing of it counts again; see applyChange. */
export async function applyDeletedTransaction(em: EntityManager, event: Event<'transactions.deleted.v1'>, options: ForecastOptions = {}): Promise<boolean> {
  const p = event.payload;
  return applyChange(em, event, p.userId, p.transactionId, { deleted: true }, [], options);
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

/** The user's totals per calendar month over [from, to) and currency, months with transactions only, latest first. */
export async function monthlyTotals(em: EntityManager, userId: string, from: Date, to: Date): Promise<MonthTotals[]> {
  const rows: { month: string; flow: CashFlow; currency: string; total_minor: string }[] = await em.getConnection().execute(
    `select to_char(date_trunc('month', day), 'YYYY-MM-DD') as month, flow, currency, sum(total_minor)::text as total_minor
         from spending
        where user_id = ? and day >= ? and day < ?
        group by 1, flow, currency
        order by 1 desc, currency`,
    [userId, formatDay(from), formatDay(to)],
    'all',
    em.getTransactionContext(),
  );
  const months = new Map<string, FlowLine[]>();
  for (const row of rows) {
    const lines = months.get(row.month) ?? [];
    lines.push({
      flow: row.flow,
      categoryId: null,
      currency: row.currency,
      totalMinor: toSafeNumber(row.total_minor, `The ${row.flow.toLowerCase()} of one month in ${row.currency}`),
      count: 1,
    });
    months.set(row.month, lines);
  }
  return [...months].map(([month, lines]) => ({ month, totals: totalsByCurrency(lines) }));
}

/** A total beyond the exact range cannot be reported without rounding: the caller is told so (BAD_USER_INPUT), never an internal error. */
function toSafeNumber(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw beyondExactRange(what);
  return value;
}

const beyondExactRange = (what: string) =>
  badInput('startsOn', `${what} in this period is beyond ${Number.MAX_SAFE_INTEGER} minor units, more than can be reported exactly; report a shorter period.`);
