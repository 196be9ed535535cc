import type { EntityManager } from '@analytica/postgres';

export interface CategoryName {
  categoryId: string;
  name: string;
}

/**
 * Keeps the newest name seen for each of the user's categories (by the event's time), for the
 * titles and texts of insights. A name is what the events said when they were written: a rename
 * shows from the next event that carries the new name, and an insight already written keeps its text.
 */
export async function rememberCategoryNames(tx: EntityManager, userId: string, names: CategoryName[], seenAt: string) {
  for (const { categoryId, name } of names) {
    await tx.getConnection().execute(
      `insert into category_names (user_id, category_id, name, named_at) values (?, ?, ?, ?)
       on conflict on constraint category_names_key
       do update set name = excluded.name, named_at = excluded.named_at where category_names.named_at <= excluded.named_at`,
      [userId, categoryId, name, seenAt],
      'run',
      tx.getTransactionContext(),
    );
  }
}

/** The names insight knows for the user's categories, by id (ids it never saw a name for are left out). */
export async function categoryNames(em: EntityManager, userId: string, categoryIds: readonly string[]): Promise<Map<string, string>> {
  if (!categoryIds.length) return new Map();
  const rows: { category_id: string; name: string }[] = await em
    .getConnection()
    .execute(
      `select category_id, name from category_names where user_id = ? and category_id in (${categoryIds.map(() => '?').join(', ')})`,
      [userId, ...categoryIds],
      'all',
      em.getTransactionContext(),
    );
  return new Map(rows.map((r) => [r.category_id, r.name]));
}
