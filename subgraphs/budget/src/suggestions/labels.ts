import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@analytica/postgres';

/** What became of a suggestion; PENDING is the only one `Transaction.suggestedCategory` shows. */
export type SuggestionStatus = 'PENDING' | 'ACCEPTED' | 'CORRECTED' | 'AUTO_APPLIED';

/**
 * The user gave these transactions a category (an edit, a bulk recategorisation, or
 * acceptSuggestedCategory). Where the model had a suggestion open, that is a label for training:
 * ACCEPTED when the category is the suggested one, CORRECTED when it is another; a suggestion that
 * was applied automatically and is now changed is CORRECTED too. The suggestion is then settled
 * (no longer shown). Runs in the caller's transaction, after the transactions were flushed.
 */
export async function settleSuggestions(tx: EntityManager, userId: string, changes: readonly { transactionId: string; categoryId: string }[]): Promise<void> {
  if (!changes.length) return;
  const connection = tx.getConnection();
  const context = tx.getTransactionContext();
  const ids = changes.map((c) => c.transactionId);
  const open: { transaction_id: string; category_id: string | null; status: SuggestionStatus }[] = await connection.execute(
    `select transaction_id, category_id, status from category_suggestions
      where user_id = ? and transaction_id in (${ids.map(() => '?').join(', ')}) and status in ('PENDING', 'AUTO_APPLIED')
      for update`,
    [userId, ...ids],
    'all',
    context,
  );
  const byId = new Map(open.map((row) => [row.transaction_id, row]));
  for (const change of changes) {
    const suggestion = byId.get(change.transactionId);
    if (!suggestion) continue;
    const same = suggestion.category_id === change.categoryId;
    if (suggestion.status === 'AUTO_APPLIED' && same) continue; // the automatic application itself
    const source = same ? 'ACCEPTED' : 'CORRECTED';
    await connection.execute(
      `insert into category_labels (id, user_id, transaction_id, source, category_id, category_name, suggested_label, suggested_confidence, model_version, payee, amount, currency, booked_at)
       select ?, s.user_id, s.transaction_id, ?, c.id, c.name, s.label, s.confidence, s.model_version, t.payee, t.amount, t.currency, t.booked_at
         from category_suggestions s
         join transactions t on t.user_id = s.user_id and t.id = s.transaction_id
         join categories c on c.user_id = s.user_id and c.id = ?
        where s.user_id = ? and s.transaction_id = ?`,
      [randomUUID(), source, change.categoryId, userId, change.transactionId],
      'run',
      context,
    );
    await connection.execute(
      `update category_suggestions set status = ?, resolved_at = now() where user_id = ? and transaction_id = ?`,
      [source, userId, change.transactionId],
      'run',
      context,
    );
  }
}
