import express, { type Express } from 'express';
import { z } from '@analytica/config';
import type { Database } from '@analytica/postgres';
import { categoryKey, readProfile, type InferenceSettings } from './inference.js';
import { newProfile } from './models/features.js';
import type { Models } from './models/models.js';

const PredictRequest = z.object({
  payee: z.string().trim().min(1).max(200),
  amountMinor: z
    .union([
      z.number().int(),
      z
        .string()
        .regex(/^-?\d+$/)
        .transform(Number),
    ])
    .refine((v) => v !== 0 && Number.isSafeInteger(v), 'must be a non-zero whole number of minor units'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('EUR'),
  bookedAt: z.iso.datetime().default(() => new Date().toISOString()),
  /** With a user, the anomaly score is against that user's history (read, never changed). */
  userId: z.string().min(1).max(100).optional(),
  categoryId: z.string().min(1).max(100).nullable().default(null),
});

/**
 * `POST /predict`: the same models the worker runs on events, for other services (the design's
 * "lightweight API"). It answers from memory and the user's stored history and writes nothing.
 */
export function predictRoutes(app: Express, options: { db: Database; models: () => Models; settings: InferenceSettings }) {
  app.post('/predict', express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = PredictRequest.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      res.status(400).json({ error: { code: 'BAD_USER_INPUT', message: issue.message, field: issue.path.join('.') || null } });
      return;
    }
    const input = parsed.data;
    const models = options.models();
    const bookedAt = new Date(input.bookedAt);
    const started = process.hrtime.bigint();
    const suggestion = models.categoriser.predict({ payee: input.payee, amountMinor: input.amountMinor, bookedAt });
    options.settings.observe?.('categoriser', Number(process.hrtime.bigint() - started) / 1e9);
    let anomaly = null;
    if (input.amountMinor < 0) {
      const profile = input.userId ? await readProfile(options.db, input.userId) : newProfile();
      const t = process.hrtime.bigint();
      const score = models.anomaly.score(profile, { categoryKey: categoryKey({ ...input, splits: [] }, suggestion), payee: input.payee, amountMinor: input.amountMinor, bookedAt });
      options.settings.observe?.('anomaly', Number(process.hrtime.bigint() - t) / 1e9);
      anomaly = {
        score: score.score,
        threshold: score.threshold,
        anomalous: score.anomalous,
        kind: score.kind,
        reason: score.reason,
        modelVersion: models.anomaly.version,
        historySize: profile.n,
      };
    }
    res.json({
      category: {
        category: suggestion.category,
        confidence: suggestion.confidence,
        confident: suggestion.confidence >= options.settings.minConfidence,
        alternatives: suggestion.ranked.slice(1, 3).map((r) => ({ category: r.category, confidence: r.probability })),
        modelVersion: models.categoriser.version,
      },
      anomaly,
    });
  });
}
