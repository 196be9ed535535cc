import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import type { EntityManager } from '@analytica/postgres';

export type CategoryKind = 'INCOME' | 'EXPENSE';

export class CategoryRecord {
  id!: string;
  userId!: string;
  name!: string;
  group!: string;
  kind!: CategoryKind;
  createdAt!: Date;
  archivedAt: Date | null = null;
}
export const CategorySchema = new EntitySchema<CategoryRecord>({
  class: CategoryRecord,
  tableName: 'categories',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    name: { type: 'string' },
    group: { type: 'string', fieldName: 'group_name' },
    kind: { type: 'string' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    archivedAt: { type: 'Date', fieldName: 'archived_at', nullable: true },
  },
});

/** What a new user starts with, so that the first transaction can be categorised straight away. */
export const DEFAULT_CATEGORIES: readonly { name: string; group: string; kind: CategoryKind }[] = [
  { name: 'Salary', group: 'Income', kind: 'INCOME' },
  { name: 'Other income', group: 'Income', kind: 'INCOME' },
  { name: 'Rent', group: 'Housing', kind: 'EXPENSE' },
  { name: 'Utilities', group: 'Housing', kind: 'EXPENSE' },
  { name: 'Groceries', group: 'Everyday', kind: 'EXPENSE' },
  { name: 'Eating out', group: 'Everyday', kind: 'EXPENSE' },
  { name: 'Transport', group: 'Everyday', kind: 'EXPENSE' },
  { name: 'Health', group: 'Everyday', kind: 'EXPENSE' },
  { name: 'Entertainment', group: 'Leisure', kind: 'EXPENSE' },
  { name: 'Shopping', group: 'Leisure', kind: 'EXPENSE' },
  { name: 'Savings', group: 'Savings', kind: 'EXPENSE' },
];

/**
 * Gives a user the default categories the first time they use the budget. One insert in one
 * transaction; two first requests racing each other both succeed and leave one set, because
 * (user_id, name) is unique and conflicts are skipped. Call it before anything that creates a
 * user's own categories, so that "no categories yet" keeps meaning "never used".
 */
export async function ensureDefaultCategories(em: EntityManager, userId: string): Promise<void> {
  const connection = em.getConnection();
  const existing: unknown[] = await connection.execute('select 1 from categories where user_id = ? limit 1', [userId], 'all', em.getTransactionContext());
  if (existing.length > 0) return;
  await em.transactional(async (tx) => {
    const values = DEFAULT_CATEGORIES.map(() => '(?, ?, ?, ?, ?)').join(', ');
    const params = DEFAULT_CATEGORIES.flatMap((c) => [randomUUID(), userId, c.name, c.group, c.kind]);
    await tx
      .getConnection()
      .execute(
        `insert into categories (id, user_id, name, group_name, kind) values ${values} on conflict (user_id, name) do nothing`,
        params,
        'run',
        tx.getTransactionContext(),
      );
  });
}
