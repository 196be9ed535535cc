import { describe, expect, it } from 'vitest';
import { seededRandom } from './index.js';

describe('seededRandom', () => {
  it('gives the same numbers for the same seed (mulberry32, as the simulators and data sets were made with)', () => {
    const random = seededRandom(42);
    expect([random(), random(), random()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    const again = seededRandom(42);
    expect(again()).toBe(0.6011037519201636);
  });

  it('stays within [0, 1) and differs between seeds', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 10_000; i++) {
      const x = random();
      expect(x >= 0 && x < 1).toBe(true);
    }
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });
});
