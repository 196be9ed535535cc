import DataLoader from 'dataloader';
import type { EntityManager } from '@analytica/postgres';
import { AccountRecord } from './accounts/account.entity.js';
import { accountBalances } from './accounts/accounts.js';
import type { BudgetRecord } from './budgets/budget.entity.js';
import { budgetSpending, carriedIn, earlierBudgets } from './budgets/budgets.js';
import { CategoryRecord } from './categories/category.entity.js';
import { openSuggestions, type StoredSuggestion } from './suggestions/suggestions.js';
import { SplitRecord, TransactionRecord } from './transactions/transaction.entity.js';

/**
 * Per-request batching: the accounts, categories, splits, transfer legs, balances and budget
 * figures that one response needs are each read with one SQL statement (two for spending in
 * several currencies), however many rows the page has. Loaders do not check ownership; resolvers
 * check the objects they return.
 */
export function createLoaders(em: EntityManager) {
  const byId = <T extends { id: string }>(rows: T[], ids: readonly string[]) => {
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id));
  };
  const groupBy = <T, K>(rows: T[], keys: readonly K[], key: (row: T) => K) => {
    const map = new Map<K, T[]>(keys.map((k) => [k, []]));
    for (const row of rows) map.get(key(row))?.push(row);
    return keys.map((k) => map.get(k)!);
  };
  const budgetKey = { cacheKeyFn: (budget: BudgetRecord) => budget.id };
  const spent = new DataLoader<BudgetRecord, number, string>(async (budgets) => {
    const amounts = await budgetSpending(em, budgets);
    return budgets.map((b) => amounts.get(b.id) ?? new Error(`budget ${b.id} has no spending`));
  }, budgetKey);
  return {
    account: new DataLoader<string, AccountRecord | undefined>(async (ids) => byId(await em.find(AccountRecord, { id: { $in: [...ids] } }), ids)),
    category: new DataLoader<string, CategoryRecord | undefined>(async (ids) => byId(await em.find(CategoryRecord, { id: { $in: [...ids] } }), ids)),
    transaction: new DataLoader<string, TransactionRecord | undefined>(async (ids) => byId(await em.find(TransactionRecord, { id: { $in: [...ids] } }), ids)),
    balance: new DataLoader<string, number>(async (ids) => {
      const balances = await accountBalances(em, ids);
      return ids.map((id) => balances.get(id) ?? new Error(`account ${id} has no balance`));
    }),
    splits: new DataLoader<string, SplitRecord[]>(async (ids) =>
      groupBy(await em.find(SplitRecord, { transactionId: { $in: [...ids] } }, { orderBy: { position: 'asc' } }), ids, (s) => s.transactionId),
    ),
    /** The open (PENDING) category suggestion of each transaction. */
    suggestion: new DataLoader<string, StoredSuggestion | undefined>((ids) => openSuggestions(em, ids)),
    /** Both legs of each transfer. */
    transferLegs: new DataLoader<string, TransactionRecord[]>(async (ids) =>
      groupBy(await em.find(TransactionRecord, { transferId: { $in: [...ids] } }), ids, (t) => t.transferId!),
    ),
    spent,
    /** What each budget receives from the period before it (rollover). */
    carriedIn: new DataLoader<BudgetRecord, number, string>(async (budgets) => {
      const earlier = await earlierBudgets(em, budgets);
      const chain = [...earlier, ...budgets];
      const amounts = await spent.loadMany(chain);
      const spentById = new Map(chain.map((b, i) => [b.id, amounts[i] as number]));
      const failed = amounts.find((a) => a instanceof Error);
      if (failed) throw failed;
      const carried = carriedIn(budgets, earlier, spentById);
      return budgets.map((b) => carried.get(b.id) ?? 0);
    }, budgetKey),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
