import { describe, expect, it } from 'vitest';
import { parsePaymentsWorkerEnv } from './environment.js';

describe('PAYMENTS_CRASH_AT', () => {
  it('is off by default, takes the three steps outside production, and is refused in production', () => {
    expect(parsePaymentsWorkerEnv({}).PAYMENTS_CRASH_AT).toBeUndefined();
    for (const point of ['before-bank', 'after-bank', 'before-commit']) {
      expect(parsePaymentsWorkerEnv({ NODE_ENV: 'test', PAYMENTS_CRASH_AT: point }).PAYMENTS_CRASH_AT).toBe(point);
    }
    expect(() => parsePaymentsWorkerEnv({ PAYMENTS_CRASH_AT: 'sometime' })).toThrow(/PAYMENTS_CRASH_AT/);
    expect(() => parsePaymentsWorkerEnv({ NODE_ENV: 'production', PAYMENTS_CRASH_AT: 'after-bank' })).toThrow(/never honoured with NODE_ENV=production/);
  });
});
