import { LockMode } from '@mikro-orm/core';
import { badInput, notFound } from '@analytica/errors';
import { claimEvent, runConsumer, startConsumerWithRetries, type Event, type EventBus } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound } from '@analytica/subgraph/access';
import { createCategory } from '../categories/categories.js';
import { SplitRecord, TransactionRecord } from '../transactions/transaction.entity.js';
import { recategorizeTransactions } from '../transactions/transactions.js';
import type { SuggestionStatus } from './labels.js';

/** The consumer name under which applied suggestion events are recorded in processed_events. */
export const SUGGESTION_CONSUMER = 'budget.suggestions';

/**
 * The model's taxonomy (ml/README.md) is matched to the user's categories by name, ignoring case;
 * where the default categories name a class differently, these names are tried next.
 */
const ALIASES: Record<string, string[]> = {
  restaurants: ['Eating out'],
  fuel: ['Transport'],
};

/** A suggestion as stored: the newest for its transaction. */
export interface StoredSuggestion {
  transactionId: string;
  transactionVersion: number;
  /** The model's category name. */
  label: string;
  /** The user's category of that name, if they have one. */
  categoryId: string | null;
  confidence: number;
  modelVersion: string;
  suggestedAt: Date;
  status: SuggestionStatus;
}

interface SuggestionRow {
  transaction_id: string;
  transaction_version: number;
  label: string;
  category_id: string | null;
  confidence: number;
  model_version: string;
  suggested_at: Date;
  status: SuggestionStatus;
}
const fromRow = (row: SuggestionRow): StoredSuggestion => ({
  transactionId: row.transaction_id,
  transactionVersion: row.transaction_version,
  label: row.label,
  categoryId: row.category_id,
  confidence: Number(row.confidence),
  modelVersion: row.model_version,
  suggestedAt: new Date(row.suggested_at),
  status: row.status,
});

/** The user's usable (not archived) category for a model class, by name, then by alias. */
export async function matchCategory(em: EntityManager, userId: string, label: string): Promise<{ id: string; name: string } | null> {
  const names = [label, ...(ALIASES[label.toLowerCase()] ?? [])].map((n) => n.toLowerCase());
  const rows: { id: string; name: string }[] = await em
    .getConnection()
    .execute(
      `select id, name from categories where user_id = ? and archived_at is null and lower(name) in (${names.map(() => '?').join(', ')})`,
      [userId, ...names],
      'all',
      em.getTransactionContext(),
    );
  for (const name of names) {
    const found = rows.find((r) => r.name.toLowerCase() === name);
    if (found) return found;
  }
  return null;
}

export interface SuggestionPreferences {
  /** Apply a suggestion at once when the model is at least minConfidence sure. Off by default. */
  autoApply: boolean;
  minConfidence: number;
}
export const DEFAULT_PREFERENCES: SuggestionPreferences = { autoApply: false, minConfidence: 0.9 };

export async function suggestionPreferences(em: EntityManager, userId: string): Promise<SuggestionPreferences> {
  const rows: { auto_apply: boolean; min_confidence: number }[] = await em
    .getConnection()
    .execute('select auto_apply, min_confidence from suggestion_preferences where user_id = ?', [userId], 'all', em.getTransactionContext());
  const row = rows[0];
  return row ? { autoApply: row.auto_apply, minConfidence: Number(row.min_confidence) } : { ...DEFAULT_PREFERENCES };
}

export async function setSuggestionPreferences(em: EntityManager, userId: string, input: { autoApply: boolean; minConfidence?: number | null }): Promise<SuggestionPreferences> {
  const minConfidence = input.minConfidence ?? DEFAULT_PREFERENCES.minConfidence;
  if (!Number.isFinite(minConfidence) || minConfidence < 0.5 || minConfidence > 1) {
    throw badInput('input.minConfidence', 'Give a confidence from 0.5 to 1 (0.9 means "only when the model is at least 90 % sure").');
  }
  await em.getConnection().execute(
    `insert into suggestion_preferences (user_id, auto_apply, min_confidence) values (?, ?, ?)
     on conflict (user_id) do update set auto_apply = excluded.auto_apply, min_confidence = excluded.min_confidence, updated_at = now()`,
    [userId, input.autoApply, minConfidence],
    'run',
    em.getTransactionContext(),
  );
  return { autoApply: input.autoApply, minConfidence };
}

/** Neither a category, nor parts, nor a transfer: what a suggestion is for. */
async function isUncategorised(tx: EntityManager, t: TransactionRecord): Promise<boolean> {
  if (t.categoryId !== null || t.transferId !== null) return false;
  return (await tx.count(SplitRecord, { userId: t.userId, transactionId: t.id })) === 0;
}

export type SuggestionOutcome = 'stored' | 'applied' | 'duplicate' | 'stale' | 'categorised' | 'gone';

/**
 * Stores one `transactions.categorised.v1` suggestion, once per event id (claimed in the same
 * transaction). Ignored when the transaction is gone, was changed since the version the model saw
 * (a newer suggestion follows, or the user categorised it), has a category meanwhile, or already
 * has a suggestion for a newer version. Applied at once (status AUTO_APPLIED; the category set as
 * by recategorizeTransactions, with its event) when the user opted in and the model is sure enough.
 */
export async function storeSuggestion(em: EntityManager, event: Event<'transactions.categorised.v1'>): Promise<SuggestionOutcome> {
  const p = event.payload;
  if (!isUuid(p.userId) || !isUuid(p.transactionId)) return 'gone';
  return em.transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, SUGGESTION_CONSUMER))) return 'duplicate';
    const transaction = await tx.findOne(TransactionRecord, { id: p.transactionId, userId: p.userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (!transaction) return 'gone';
    if (transaction.version > p.transactionVersion) return 'stale';
    if (!(await isUncategorised(tx, transaction))) return 'categorised';
    const connection = tx.getConnection();
    const context = tx.getTransactionContext();
    const [existing]: { transaction_version: number }[] = await connection.execute(
      'select transaction_version from category_suggestions where user_id = ? and transaction_id = ?',
      [p.userId, p.transactionId],
      'all',
      context,
    );
    if (existing && existing.transaction_version > p.transactionVersion) return 'stale';
    const category = await matchCategory(tx, p.userId, p.category);
    const preferences = await suggestionPreferences(tx, p.userId);
    const apply = preferences.autoApply && category !== null && p.confidence >= preferences.minConfidence;
    await connection.execute(
      `insert into category_suggestions (user_id, transaction_id, transaction_version, label, category_id, confidence, model, model_version, event_id, suggested_at, status, resolved_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (user_id, transaction_id) do update set
         transaction_version = excluded.transaction_version, label = excluded.label, category_id = excluded.category_id,
         confidence = excluded.confidence, model = excluded.model, model_version = excluded.model_version, event_id = excluded.event_id,
         suggested_at = excluded.suggested_at, status = excluded.status, resolved_at = excluded.resolved_at`,
      [
        p.userId,
        p.transactionId,
        p.transactionVersion,
        p.category,
        category?.id ?? null,
        p.confidence,
        p.model,
        p.modelVersion,
        event.id,
        new Date(p.suggestedAt),
        apply ? 'AUTO_APPLIED' : 'PENDING',
        apply ? new Date() : null,
      ],
      'run',
      context,
    );
    if (!apply) return 'stored';
    await recategorizeTransactions(tx, p.userId, [p.transactionId], category.id);
    return 'applied';
  });
}

/**
 * Gives the transaction its open suggestion's category, as recategorizeTransactions does (event,
 * budgets), and records an ACCEPTED label. A suggested class the user has no category for (say
 * "Travel") becomes a new category of that name in the group "Suggested". NOT_FOUND for a
 * transaction that is not the caller's; BAD_USER_INPUT when there is no open suggestion.
 */
export async function acceptSuggestedCategory(em: EntityManager, userId: string, transactionId: string): Promise<TransactionRecord> {
  if (!isUuid(transactionId)) throw notFound('Transaction', transactionId, 'transactionId');
  return em.transactional(async (tx) => {
    const transaction = ownedOrNotFound(
      userId,
      await tx.findOne(TransactionRecord, { id: transactionId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true }),
      'Transaction',
      transactionId,
      'transactionId',
    );
    const [row]: SuggestionRow[] = await tx
      .getConnection()
      .execute(
        `select * from category_suggestions where user_id = ? and transaction_id = ? and status = 'PENDING' for update`,
        [userId, transactionId],
        'all',
        tx.getTransactionContext(),
      );
    if (!row || !(await isUncategorised(tx, transaction))) throw badInput('transactionId', 'This transaction has no open category suggestion.');
    let categoryId = row.category_id ?? (await matchCategory(tx, userId, row.label))?.id ?? null;
    if (!categoryId) {
      const created = await createCategory(tx, userId, { name: row.label, group: 'Suggested', kind: row.label === 'Salary' ? 'INCOME' : 'EXPENSE' });
      await tx.flush();
      categoryId = created.id;
    }
    await tx
      .getConnection()
      .execute('update category_suggestions set category_id = ? where user_id = ? and transaction_id = ?', [categoryId, userId, transactionId], 'run', tx.getTransactionContext());
    const [updated] = await recategorizeTransactions(tx, userId, [transactionId], categoryId);
    return updated!;
  });
}

/** The open suggestions of these transactions (per-request loader; ownership is the caller's to check). */
export async function openSuggestions(em: EntityManager, transactionIds: readonly string[]): Promise<(StoredSuggestion | undefined)[]> {
  const rows: SuggestionRow[] = await em
    .getConnection()
    .execute(
      `select * from category_suggestions where transaction_id in (${transactionIds.map(() => '?').join(', ')}) and status = 'PENDING'`,
      [...transactionIds],
      'all',
      em.getTransactionContext(),
    );
  const byId = new Map(rows.map((r) => [r.transaction_id, fromRow(r)]));
  return transactionIds.map((id) => byId.get(id));
}

/**
 * Consumes transactions.categorised.v1 through the shared consumer (retry tiers, dead letters) and
 * stores each suggestion once. `onApplied` wakes the outbox relay after an automatic application.
 */
export function startSuggestionConsumer(options: { db: Database; bus: EventBus; logger: Logger; onApplied?: () => void; retryDelaysMs?: number[] }) {
  return startConsumerWithRetries('transactions.categorised.v1 consumer', options.logger, () =>
    runConsumer({
      bus: options.bus,
      logger: options.logger,
      groupId: SUGGESTION_CONSUMER,
      topic: 'transactions.categorised.v1',
      retryDelaysMs: options.retryDelaysMs,
      async handle(event) {
        const outcome = await storeSuggestion(options.db.fork(), event);
        options.logger.debug({ transactionId: event.payload.transactionId, outcome }, 'category suggestion');
        if (outcome === 'applied') options.onApplied?.();
      },
    }),
  );
}
