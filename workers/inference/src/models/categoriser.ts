import { categoryTokens, FEATURES_VERSION, hashedVector } from './features.js';

/** A multinomial logistic regression over hashed tokens, as `ml/pipeline/train.py` exports it. */
export interface CategoriserArtefact {
  format: 'analytica.hashed-logistic.v1';
  model: 'categoriser';
  featuresVersion: number;
  hashBits: number;
  classes: string[];
  intercept: number[];
  /** Bucket -> one weight per class; buckets never seen in training are absent (weight 0). */
  weights: Record<string, number[]>;
}

export interface CategoryInput {
  payee: string;
  amountMinor: number;
  bookedAt: Date;
}
export interface CategorySuggestion {
  category: string;
  confidence: number;
  /** Every class with its probability, most likely first. */
  ranked: { category: string; probability: number }[];
}

export interface Categoriser {
  readonly version: string;
  readonly classes: readonly string[];
  probabilities(input: CategoryInput): number[];
  predict(input: CategoryInput): CategorySuggestion;
}

/** Checks the artefact's shape (a corrupt file is refused here, never half-used) and builds the model. */
export function loadCategoriser(version: string, artefact: unknown): Categoriser {
  const a = artefact as CategoriserArtefact;
  if (a?.format !== 'analytica.hashed-logistic.v1') throw new Error(`categoriser ${version}: unknown format ${JSON.stringify(a?.format)}`);
  if (a.featuresVersion !== FEATURES_VERSION) throw new Error(`categoriser ${version}: built for features v${a.featuresVersion}, this code computes v${FEATURES_VERSION}`);
  const k = a.classes?.length ?? 0;
  if (k < 2 || a.intercept?.length !== k || !Number.isInteger(a.hashBits) || a.hashBits < 1 || a.hashBits > 30) throw new Error(`categoriser ${version}: malformed header`);
  const weights = new Map<number, Float64Array>();
  for (const [bucket, w] of Object.entries(a.weights ?? {})) {
    if (!Array.isArray(w) || w.length !== k || !w.every(Number.isFinite)) throw new Error(`categoriser ${version}: malformed weights for bucket ${bucket}`);
    weights.set(Number(bucket), Float64Array.from(w));
  }
  const classes = [...a.classes];
  const intercept = Float64Array.from(a.intercept);

  function probabilities(input: CategoryInput): number[] {
    const z = Array.from(intercept);
    // Buckets in ascending order, as numpy sums a sorted CSR row.
    const x = [...hashedVector(categoryTokens(input.payee, input.amountMinor, input.bookedAt), a.hashBits)].sort((p, q) => p[0] - q[0]);
    for (const [bucket, value] of x) {
      const w = weights.get(bucket);
      if (!w) continue;
      for (let c = 0; c < k; c++) z[c]! += w[c]! * value;
    }
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / sum);
  }

  return {
    version,
    classes,
    probabilities,
    predict(input) {
      const p = probabilities(input);
      const ranked = classes.map((category, i) => ({ category, probability: p[i]! })).sort((x, y) => y.probability - x.probability || x.category.localeCompare(y.category));
      return { category: ranked[0]!.category, confidence: ranked[0]!.probability, ranked };
    },
  };
}
