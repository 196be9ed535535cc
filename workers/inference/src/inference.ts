import { claimEvent, recordEvent, type Event, type EventPayload } from '@analytica/events';
import type { Database, EntityManager } from '@analytica/postgres';
import type { AnomalyScore } from './models/anomaly.js';
import type { CategorySuggestion } from './models/categoriser.js';
import { newProfile, updateProfile, type Profile } from './models/features.js';
import type { Models } from './models/models.js';

export const CONSUMER = 'inference';

export interface InferenceSettings {
  minConfidence: number;
  /** Observes how long each model took, in seconds. */
  observe?: (model: 'categoriser' | 'anomaly', seconds: number) => void;
}

export interface Outcome {
  /** False when the event had been applied before (a redelivery): nothing was done. */
  applied: boolean;
  suggestion: CategorySuggestion | null;
  anomaly: AnomalyScore | null;
}

function timed<T>(settings: InferenceSettings, model: 'categoriser' | 'anomaly', run: () => T): T {
  const started = process.hrtime.bigint();
  try {
    return run();
  } finally {
    settings.observe?.(model, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

/** The rules left it without a category, and it is not split: a suggestion may help. */
const uncategorised = (p: { categoryId: string | null; splits?: unknown[] | undefined }) => p.categoryId === null && !(p.splits?.length ?? 0);

/**
 * The key the anomaly model keeps amounts under: the user's own category when there is one,
 * else the suggested one (marked apart, so that the two never mix), per currency.
 */
export function categoryKey(p: { categoryId: string | null; splits?: unknown[] | undefined; currency: string }, suggestion: CategorySuggestion): string {
  const category = p.categoryId !== null ? `id:${p.categoryId}` : p.splits?.length ? 'split' : `model:${suggestion.category}`;
  return `${category}/${p.currency}`;
}

/** The category an anomaly is shown under: the user's (by the name budget recorded), else the model's suggestion. */
export function anomalyCategory(
  p: { categoryId: string | null; categoryName?: string | null | undefined; splits?: unknown[] | undefined },
  suggestion: CategorySuggestion,
): { category: string | null; categorySuggested: boolean } {
  if (p.categoryId !== null) return { category: p.categoryName ?? null, categorySuggested: false };
  if (p.splits?.length) return { category: null, categorySuggested: false };
  return { category: suggestion.category, categorySuggested: true };
}

async function lockProfile(tx: EntityManager, userId: string): Promise<Profile> {
  const connection = tx.getConnection();
  const context = tx.getTransactionContext();
  await connection.execute(`insert into profiles (user_id, profile) values (?, ?::jsonb) on conflict do nothing`, [userId, JSON.stringify(newProfile())], 'run', context);
  const rows: { profile: Profile }[] = await connection.execute(`select profile from profiles where user_id = ? for update`, [userId], 'all', context);
  return rows[0]!.profile;
}

async function saveProfile(tx: EntityManager, userId: string, profile: Profile) {
  await tx
    .getConnection()
    .execute(`update profiles set profile = ?::jsonb, updated_at = now() where user_id = ?`, [JSON.stringify(profile), userId], 'run', tx.getTransactionContext());
}

/** Reads a user's profile without changing it (for /predict); an unknown user has an empty one. */
export async function readProfile(db: Database, userId: string): Promise<Profile> {
  const rows: { profile: Profile }[] = await db.fork().getConnection().execute(`select profile from profiles where user_id = ?`, [userId], 'all');
  return rows[0]?.profile ?? newProfile();
}

function suggestionEvent(userId: string, transactionId: string, version: number, s: CategorySuggestion, modelVersion: string): EventPayload<'transactions.categorised.v1'> {
  return {
    userId,
    transactionId,
    transactionVersion: version,
    category: s.category,
    confidence: s.confidence,
    alternatives: s.ranked.slice(1, 3).map((r) => ({ category: r.category, confidence: r.probability })),
    model: 'categoriser',
    modelVersion,
    suggestedAt: new Date().toISOString(),
  };
}

/**
 * A recorded transaction: a category suggestion if the rules left it uncategorised, and, for
 * spending, an anomaly score against the user's history (which it then joins). The claim of the
 * event id, the profile change and the events are one database transaction: a redelivery changes
 * nothing and publishes nothing; a crash before the commit leaves no trace.
 */
export async function inferRecorded(db: Database, models: Models, settings: InferenceSettings, event: Event<'transactions.recorded.v1'>): Promise<Outcome> {
  const p = event.payload;
  return db.fork().transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, CONSUMER))) return { applied: false, suggestion: null, anomaly: null };
    // A transfer between the user's own accounts is neither a category nor a risk.
    if (p.transferId) return { applied: true, suggestion: null, anomaly: null };
    const amountMinor = Number(p.amountMinor);
    const bookedAt = new Date(p.bookedAt);
    const suggestion = timed(settings, 'categoriser', () => models.categoriser.predict({ payee: p.payee, amountMinor, bookedAt }));
    let published: CategorySuggestion | null = null;
    if (uncategorised(p) && suggestion.confidence >= settings.minConfidence) {
      recordEvent(tx, 'transactions.categorised.v1', p.userId, suggestionEvent(p.userId, p.transactionId, 1, suggestion, models.categoriser.version));
      published = suggestion;
    }
    let anomaly: AnomalyScore | null = null;
    if (amountMinor < 0) {
      const profile = await lockProfile(tx, p.userId);
      const key = categoryKey(p, suggestion);
      anomaly = timed(settings, 'anomaly', () => models.anomaly.score(profile, { categoryKey: key, payee: p.payee, amountMinor, bookedAt }));
      if (anomaly.anomalous) {
        recordEvent(tx, 'transactions.anomalous.v1', p.userId, {
          userId: p.userId,
          transactionId: p.transactionId,
          accountId: p.accountId,
          amountMinor: p.amountMinor,
          currency: p.currency,
          payee: p.payee,
          bookedAt: p.bookedAt,
          score: anomaly.score,
          threshold: anomaly.threshold,
          kind: anomaly.kind,
          reason: anomaly.reason,
          ...anomalyCategory(p, suggestion),
          model: 'anomaly',
          modelVersion: models.anomaly.version,
          detectedAt: new Date().toISOString(),
        });
      }
      updateProfile(profile, key, p.payee, amountMinor, bookedAt.getTime());
      await saveProfile(tx, p.userId, profile);
    }
    return { applied: true, suggestion: published, anomaly };
  });
}

/**
 * An edited transaction that is still uncategorised gets a fresh suggestion for its new payee and
 * amount (carrying the edit's version, so that consumers keep the newest). The anomaly history is
 * fed by recorded transactions only: an edit neither rescores nor rewrites it.
 */
export async function inferUpdated(db: Database, models: Models, settings: InferenceSettings, event: Event<'transactions.updated.v1'>): Promise<Outcome> {
  const p = event.payload;
  return db.fork().transactional(async (tx) => {
    if (!(await claimEvent(tx, event.id, CONSUMER))) return { applied: false, suggestion: null, anomaly: null };
    if (!uncategorised(p)) return { applied: true, suggestion: null, anomaly: null };
    const suggestion = timed(settings, 'categoriser', () => models.categoriser.predict({ payee: p.payee, amountMinor: Number(p.amountMinor), bookedAt: new Date(p.bookedAt) }));
    if (suggestion.confidence < settings.minConfidence) return { applied: true, suggestion: null, anomaly: null };
    recordEvent(tx, 'transactions.categorised.v1', p.userId, suggestionEvent(p.userId, p.transactionId, p.version, suggestion, models.categoriser.version));
    return { applied: true, suggestion, anomaly: null };
  });
}
