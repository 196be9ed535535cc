import { describe, expect, it } from 'vitest';
import { unsafeRegexReason } from './regex-safety.js';

describe('regular expressions a rule may hold', () => {
  it('accepts what payee rules are made of', () => {
    for (const pattern of [
      '^(tesco|sainsbury)',
      'amzn\\s+mktp',
      '[0-9]{4}-[0-9]{2}',
      'uber( eats)?$',
      '(?:coffee|café) [a-z]+',
      '[]a]|[^]x]',
      '[[:digit:]]+',
      '(a{1,100}){1,9}b',
    ]) {
      expect(unsafeRegexReason(pattern), pattern).toBeNull();
    }
  });

  it('refuses back references, lookaround, embedded options and directors', () => {
    expect(unsafeRegexReason('^(.*)(.*)(.*)(.*)(.*)\\5\\4\\3\\2\\1x$')).toMatch(/back references such as \\5/);
    expect(unsafeRegexReason('(a)\\1')).toMatch(/back references/);
    expect(unsafeRegexReason('foo(?=bar)')).toMatch(/lookahead and lookbehind/);
    expect(unsafeRegexReason('(?<!x)foo')).toMatch(/lookahead and lookbehind/);
    expect(unsafeRegexReason('(?b)\\(a\\)')).toMatch(/embedded options/);
    expect(unsafeRegexReason('***=a')).toMatch(/directors/);
  });

  it('bounds the pattern once its repetitions are counted out, and its length', () => {
    expect(unsafeRegexReason('((a{1,100}){1,20})b')).toMatch(/too large .*2001/);
    expect(unsafeRegexReason('(.{0,255}){0,255}')).toMatch(/too large/);
    expect(unsafeRegexReason('a'.repeat(201))).toMatch(/at most 200 characters/);
  });
});
