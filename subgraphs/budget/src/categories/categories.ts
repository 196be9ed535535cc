import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { badInput, notFound } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound } from '@analytica/subgraph/access';
import { CategoryRecord, type CategoryKind } from './category.entity.js';

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
      .execute(`insert into categories (id, user_id, name, group_name, kind) values ${values} on conflict (user_id, name) do nothing`, params, 'run', tx.getTransactionContext());
  });
}

/** The user's categories, archived ones included, by group and name; the default set is made on first use. */
export async function listCategories(em: EntityManager, userId: string): Promise<CategoryRecord[]> {
  await ensureDefaultCategories(em, userId);
  return em.find(CategoryRecord, { userId }, { orderBy: [{ group: 'asc' }, { name: 'asc' }] });
}

export interface CategoryCreation {
  name: string;
  group: string;
  kind: CategoryKind;
}

function checkName(text: string, field: string, what: string): string {
  const name = text.trim().replace(/\s+/g, ' ');
  if (name.length < 1 || name.length > 100) throw badInput(field, `Give the ${what} a name of 1 to 100 characters.`);
  return name;
}

async function refuseTakenName(em: EntityManager, userId: string, name: string, exceptId?: string) {
  const taken = await em.findOne(CategoryRecord, { userId, name, ...(exceptId ? { id: { $ne: exceptId } } : {}) });
  if (taken) throw badInput('input.name', `You already have a category named "${name}"${taken.archivedAt ? ' (archived: restore it instead)' : ''}.`);
}

/** A category of the user's own, next to the default set (which is created first if it is not there yet). */
export async function createCategory(em: EntityManager, userId: string, input: CategoryCreation): Promise<CategoryRecord> {
  const name = checkName(input.name, 'input.name', 'category');
  const group = checkName(input.group, 'input.group', 'group');
  if (input.kind !== 'INCOME' && input.kind !== 'EXPENSE') throw badInput('input.kind', 'Use INCOME or EXPENSE.');
  await ensureDefaultCategories(em, userId);
  return em.transactional(async (tx) => {
    await refuseTakenName(tx, userId, name);
    return tx.create(CategoryRecord, { id: randomUUID(), userId, name, group, kind: input.kind, createdAt: new Date(), archivedAt: null });
  });
}

/** Renames a category or moves it to another group; its kind stays, since its history was booked as such. */
export async function updateCategory(em: EntityManager, userId: string, id: string, input: { name?: string | null; group?: string | null }) {
  if (!isUuid(id)) throw notFound('Category', id, 'id');
  const name = input.name == null ? undefined : checkName(input.name, 'input.name', 'category');
  const group = input.group == null ? undefined : checkName(input.group, 'input.group', 'group');
  return em.transactional(async (tx) => {
    const category = ownedOrNotFound(userId, await tx.findOne(CategoryRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }), 'Category', id, 'id');
    if (name !== undefined && name !== category.name) {
      await refuseTakenName(tx, userId, name, id);
      category.name = name;
    }
    if (group !== undefined) category.group = group;
    return category;
  });
}

export type CategoryRemoval = 'DELETED' | 'ARCHIVED';

/**
 * Deletes a category nothing refers to; one that transactions, splits, budgets, rules or schedules
 * use is archived instead, so that history keeps its meaning. Archived categories take no new use.
 */
export async function removeCategory(em: EntityManager, userId: string, id: string): Promise<{ outcome: CategoryRemoval; category: CategoryRecord }> {
  if (!isUuid(id)) throw notFound('Category', id, 'id');
  return em.transactional(async (tx) => {
    const category = ownedOrNotFound(userId, await tx.findOne(CategoryRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }), 'Category', id, 'id');
    const [usage] = await tx.getConnection().execute<{ used: boolean }[]>(
      `select exists (select 1 from transactions where user_id = ? and category_id = ?)
           or exists (select 1 from transaction_splits where user_id = ? and category_id = ?)
           or exists (select 1 from budgets where user_id = ? and category_id = ?)
           or exists (select 1 from rules where user_id = ? and category_id = ?)
           or exists (select 1 from schedules where user_id = ? and category_id = ?) as used`,
      Array.from({ length: 5 }, () => [userId, id]).flat(),
      'all',
      tx.getTransactionContext(),
    );
    if (usage?.used) {
      category.archivedAt ??= new Date();
      return { outcome: 'ARCHIVED' as const, category };
    }
    tx.remove(category);
    return { outcome: 'DELETED' as const, category };
  });
}

export async function restoreCategory(em: EntityManager, userId: string, id: string): Promise<CategoryRecord> {
  if (!isUuid(id)) throw notFound('Category', id, 'id');
  return em.transactional(async (tx) => {
    const category = ownedOrNotFound(userId, await tx.findOne(CategoryRecord, { id }), 'Category', id, 'id');
    category.archivedAt = null;
    return category;
  });
}

/**
 * Loads the categories a write refers to, in one statement, and refuses another user's (as not
 * found, so ids cannot be probed) or an archived one, naming the input field of each.
 */
export async function usableCategories(em: EntityManager, userId: string, refs: { id: string; field: string }[]): Promise<Map<string, CategoryRecord>> {
  for (const ref of refs) if (!isUuid(ref.id)) throw notFound('Category', ref.id, ref.field);
  const ids = [...new Set(refs.map((r) => r.id))];
  const found = ids.length ? await em.find(CategoryRecord, { id: { $in: ids } }) : [];
  const byId = new Map(found.map((c) => [c.id, c]));
  for (const ref of refs) {
    const category = ownedOrNotFound(userId, byId.get(ref.id), 'Category', ref.id, ref.field);
    if (category.archivedAt) throw badInput(ref.field, `"${category.name}" is archived; restore it or pick another category.`);
  }
  return byId;
}
