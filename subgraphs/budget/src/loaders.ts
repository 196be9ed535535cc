import DataLoader from 'dataloader';
import type { EntityManager } from '@analytica/postgres';
import { AccountRecord, accountBalances } from './accounts.js';
import { budgetSpending } from './budgets.js';
import { CategoryRecord } from './categories.js';

/**
 * Per-request batching: the accounts, categories, balances and budget spending that one response
 * needs are each read with one SQL statement, however many rows the page has. Loaders do not
 * check ownership; resolvers check the objects they return.
 */
export function createLoaders(em: EntityManager) {
  const byId = <T extends { id: string }>(rows: T[], ids: readonly string[]) => {
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id));
  };
  return {
    account: new DataLoader<string, AccountRecord | undefined>(async (ids) => byId(await em.find(AccountRecord, { id: { $in: [...ids] } }), ids)),
    category: new DataLoader<string, CategoryRecord | undefined>(async (ids) => byId(await em.find(CategoryRecord, { id: { $in: [...ids] } }), ids)),
    balance: new DataLoader<string, number>(async (ids) => {
      const balances = await accountBalances(em, ids);
      return ids.map((id) => balances.get(id) ?? new Error(`account ${id} has no balance`));
    }),
    spent: new DataLoader<string, number>(async (ids) => {
      const spent = await budgetSpending(em, ids);
      return ids.map((id) => spent.get(id) ?? new Error(`budget ${id} has no spending`));
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
