/**
 * How a projection of month-end spending is scored against what was actually spent: the size of the
 * error (mean absolute error in minor units, and the same as a share of the actual spending) and
 * the decision the forecast insight tells the user, "this budget will exceed its limit".
 */
export interface ScoredCase {
  /** What was spent in the category by the end of the period, minor units. */
  actualMinor: number;
  /** What the projection said it would be, minor units. */
  projectedMinor: number;
  limitMinor: number;
}

export function meanAbsoluteError(cases: readonly ScoredCase[]): number {
  if (cases.length === 0) return Number.NaN;
  let total = 0;
  for (const c of cases) total += Math.abs(c.projectedMinor - c.actualMinor);
  return total / cases.length;
}

/**
 * The total absolute error as a percentage of the total actual spending (WAPE). A per-case
 * percentage is undefined for a month with nothing spent (a budget for travel in a month without a
 * trip) and explodes for a month with 2 EUR spent; summing first weighs each case by its money.
 */
export function errorPercentOfActual(cases: readonly ScoredCase[]): number {
  let error = 0;
  let actual = 0;
  for (const c of cases) {
    error += Math.abs(c.projectedMinor - c.actualMinor);
    actual += Math.abs(c.actualMinor);
  }
  return actual === 0 ? Number.NaN : (100 * error) / actual;
}

export interface ExceedScores {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  /** Of the budgets said to exceed, the share that did; NaN when none was said to. */
  precision: number;
  /** Of the budgets that exceeded, the share said to; NaN when none did. */
  recall: number;
  /** Harmonic mean of precision and recall; NaN when either is undefined. */
  f1: number;
}

/** "Will exceed" means above the limit, as the insight decides it (projected - limit > 0). */
export const exceeds = (minor: number, limitMinor: number) => minor > limitMinor;

export function exceedScores(cases: readonly ScoredCase[]): ExceedScores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const c of cases) {
    const said = exceeds(c.projectedMinor, c.limitMinor);
    const did = exceeds(c.actualMinor, c.limitMinor);
    if (said && did) tp++;
    else if (said) fp++;
    else if (did) fn++;
    else tn++;
  }
  const precision = tp + fp === 0 ? Number.NaN : tp / (tp + fp);
  const recall = tp + fn === 0 ? Number.NaN : tp / (tp + fn);
  // Both defined and both 0 (every "exceed" wrong, every real one missed): the worst score, not undefined.
  const f1 = Number.isNaN(precision) || Number.isNaN(recall) ? Number.NaN : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn, precision, recall, f1 };
}
