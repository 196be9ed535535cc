import { describe, expect, it } from 'vitest';
import { errorPercentOfActual, exceedScores, meanAbsoluteError, type ScoredCase } from './scoring.js';

const scored = (actualMinor: number, projectedMinor: number, limitMinor = 100_00): ScoredCase => ({ actualMinor, projectedMinor, limitMinor });

describe('forecast scoring', () => {
  it('mean absolute error averages the size of each miss, over and under alike', () => {
    // Misses of +30, -10 and 0 EUR: 40 EUR over three cases.
    expect(meanAbsoluteError([scored(100_00, 130_00), scored(50_00, 40_00), scored(20_00, 20_00)])).toBeCloseTo(40_00 / 3, 9);
    expect(meanAbsoluteError([])).toBeNaN();
  });

  it('error as a share of actual spending weighs each case by its money, and a month with nothing spent still counts', () => {
    // 30 + 10 + 5 EUR of error over 100 + 50 + 0 EUR spent: 30 %.
    expect(errorPercentOfActual([scored(100_00, 130_00), scored(50_00, 40_00), scored(0, 5_00)])).toBeCloseTo(30, 9);
    expect(errorPercentOfActual([scored(0, 5_00)])).toBeNaN();
  });

  it('"will exceed" is above the limit, not at it, for the projection and for what happened', () => {
    const scores = exceedScores([
      scored(120_00, 110_00), // said and did: true positive
      scored(120_00, 101_00), // true positive
      scored(90_00, 105_00), // said, did not: false positive
      scored(100_00, 100_01), // at the limit is within it: false positive
      scored(130_00, 100_00), // did, projection at the limit: false negative
      scored(80_00, 90_00), // true negative
    ]);
    expect(scores).toMatchObject({ truePositives: 2, falsePositives: 2, falseNegatives: 1, trueNegatives: 1 });
    expect(scores.precision).toBeCloseTo(2 / 4, 9);
    expect(scores.recall).toBeCloseTo(2 / 3, 9);
    expect(scores.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 9);
  });

  it('precision is undefined when nothing is said to exceed, recall when nothing does, and both wrong is an F1 of 0', () => {
    const none = exceedScores([scored(80_00, 90_00)]);
    expect(none.precision).toBeNaN();
    expect(none.recall).toBeNaN();
    expect(none.f1).toBeNaN();
    const allWrong = exceedScores([scored(80_00, 120_00), scored(120_00, 80_00)]);
    expect(allWrong).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });
});
