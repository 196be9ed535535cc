import { ANOMALY_FEATURES, FEATURES_VERSION, anomalyFeatures, type Profile } from './features.js';

/** Gradient-boosted trees from XGBoost's JSON model, as `ml/pipeline/train.py` exports them. */
export interface AnomalyArtefact {
  format: 'analytica.xgboost-trees.v1';
  model: 'anomaly';
  featuresVersion: number;
  features: string[];
  baseScore: number;
  /** Score at or above which a transaction is reported (validation precision 0.8). */
  alertThreshold: number;
  trees: { left: number[]; right: number[]; feature: number[]; threshold: number[]; defaultLeft: number[] }[];
}

export type AnomalyKind = 'DUPLICATE' | 'AMOUNT' | 'PAYEE' | 'TIMING';
export interface AnomalyInput {
  categoryKey: string;
  payee: string;
  amountMinor: number;
  bookedAt: Date;
}
export interface AnomalyScore {
  score: number;
  threshold: number;
  anomalous: boolean;
  features: number[];
  kind: AnomalyKind;
  reason: string;
}

export interface AnomalyDetector {
  readonly version: string;
  readonly threshold: number;
  /** Scores a spending transaction against the user's history before it (the profile is not changed). */
  score(profile: Profile, input: AnomalyInput): AnomalyScore;
  scoreFeatures(features: readonly number[]): number;
}

interface Tree {
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  /** float32, as XGBoost compares; on a leaf, the leaf value. */
  threshold: Float32Array;
}

export function loadAnomalyDetector(version: string, artefact: unknown): AnomalyDetector {
  const a = artefact as AnomalyArtefact;
  if (a?.format !== 'analytica.xgboost-trees.v1') throw new Error(`anomaly ${version}: unknown format ${JSON.stringify(a?.format)}`);
  if (a.featuresVersion !== FEATURES_VERSION || JSON.stringify(a.features) !== JSON.stringify(ANOMALY_FEATURES)) {
    throw new Error(`anomaly ${version}: built for other features (v${a.featuresVersion}) than this code computes (v${FEATURES_VERSION})`);
  }
  if (!(a.baseScore > 0 && a.baseScore < 1) || !Number.isFinite(a.alertThreshold) || !Array.isArray(a.trees) || a.trees.length === 0)
    throw new Error(`anomaly ${version}: malformed header`);
  const trees: Tree[] = a.trees.map((t, i) => {
    const n = t.left?.length ?? 0;
    if (n === 0 || [t.right, t.feature, t.threshold].some((arr) => arr?.length !== n)) throw new Error(`anomaly ${version}: malformed tree ${i}`);
    const tree = { left: Int32Array.from(t.left), right: Int32Array.from(t.right), feature: Int32Array.from(t.feature), threshold: Float32Array.from(t.threshold) };
    for (let node = 0; node < n; node++) {
      const l = tree.left[node]!;
      if (l === -1) continue;
      // Children come after their parent (XGBoost numbers them so): a walk always ends.
      if (l <= node || l >= n || tree.right[node]! <= node || tree.right[node]! >= n || tree.feature[node]! < 0 || tree.feature[node]! >= ANOMALY_FEATURES.length) {
        throw new Error(`anomaly ${version}: malformed node ${node} in tree ${i}`);
      }
    }
    return tree;
  });
  const baseMargin = Math.log(a.baseScore / (1 - a.baseScore));
  const x32 = new Float32Array(ANOMALY_FEATURES.length);

  function scoreFeatures(features: readonly number[]): number {
    for (let i = 0; i < x32.length; i++) x32[i] = features[i]!;
    let margin = baseMargin;
    for (const t of trees) {
      let node = 0;
      while (t.left[node] !== -1) node = x32[t.feature[node]!]! < t.threshold[node]! ? t.left[node]! : t.right[node]!;
      margin += t.threshold[node]!;
    }
    return 1 / (1 + Math.exp(-margin));
  }

  return {
    version,
    threshold: a.alertThreshold,
    scoreFeatures,
    score(profile, input) {
      const features = anomalyFeatures(profile, input.categoryKey, input.payee, input.amountMinor, input.bookedAt.getTime());
      const score = scoreFeatures(features);
      return { score, threshold: a.alertThreshold, anomalous: score >= a.alertThreshold, features, ...explain(features) };
    },
  };
}

const f = Object.fromEntries(ANOMALY_FEATURES.map((name, i) => [name, i])) as Record<(typeof ANOMALY_FEATURES)[number], number>;

/**
 * Why, in words: the most telling of the features the injected kinds move (duplicate, amount
 * against the category and the payee, a payee never seen, an hour the user is rarely active).
 */
export function explain(x: readonly number[]): { kind: AnomalyKind; reason: string } {
  const get = (name: keyof typeof f) => x[f[name]]!;
  if (get('duplicate') === 1) return { kind: 'DUPLICATE', reason: `Same payee and amount as a payment ${formatGap(get('payee_gap_hours'))} earlier.` };
  const times = Math.exp(get('payee_count') > 0 ? get('payee_amount_dev') : 0);
  if (get('category_z') >= 3 || (get('payee_count') >= 3 && times >= 2.5)) {
    const usual = Math.expm1(get('log_amount') - (get('payee_count') > 0 ? get('payee_amount_dev') : 0));
    return get('payee_count') > 0 && times >= 2.5
      ? { kind: 'AMOUNT', reason: `About ${times.toFixed(1)} times what you usually pay this payee (usually about ${usual.toFixed(2)}).` }
      : { kind: 'AMOUNT', reason: `Far above your usual amounts in this category (${get('category_z').toFixed(1)} standard deviations).` };
  }
  if (get('user_count') >= 20 && get('hour_share') < 0.02) return { kind: 'TIMING', reason: `At ${String(get('hour')).padStart(2, '0')}:00 UTC, an hour you rarely pay at.` };
  if (get('payee_count') === 0) return { kind: 'PAYEE', reason: 'A payee you have never paid before.' };
  return { kind: 'AMOUNT', reason: 'Unusual for this payee and category.' };
}

function formatGap(hours: number) {
  return hours < 1 ? `${Math.max(1, Math.round(hours * 60))} minutes` : `${hours.toFixed(1)} hours`;
}
