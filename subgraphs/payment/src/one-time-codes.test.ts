import { describe, expect, it } from 'vitest';
import { codeHash, codeMatches, newOneTimeCode } from './one-time-codes.js';

const secret = 'a-test-secret-that-is-at-least-32-characters';

describe('one-time codes', () => {
  it('are six digits, zero-padded, and spread over the whole range', () => {
    const codes = Array.from({ length: 2000 }, newOneTimeCode);
    expect(codes.every((c) => /^\d{6}$/.test(c))).toBe(true);
    expect(new Set(codes).size).toBeGreaterThan(1990);
  });

  it('match only the subject and purpose they were issued for', () => {
    const hash = codeHash(secret, 'payment', 'p1', '012345');
    expect(codeMatches(hash, secret, 'payment', 'p1', '012345')).toBe(true);
    expect(codeMatches(hash, secret, 'payment', 'p1', ' 012345 ')).toBe(true);
    expect(codeMatches(hash, secret, 'payment', 'p2', '012345')).toBe(false);
    expect(codeMatches(hash, secret, 'bank-account', 'p1', '012345')).toBe(false);
    expect(codeMatches(hash, `${secret}x`, 'payment', 'p1', '012345')).toBe(false);
    expect(codeMatches(hash, secret, 'payment', 'p1', '12345')).toBe(false);
    expect(codeMatches(null, secret, 'payment', 'p1', '012345')).toBe(false);
  });

  it('are never stored in a form that contains the code', () => {
    expect(codeHash(secret, 'payment', 'p1', '424242')).not.toContain('424242');
  });
});
