import { describe, expect, it } from 'vitest';
import { hintFromCacheControl } from './cache-hints.js';

describe('hintFromCacheControl', () => {
  it('reads what Apollo subgraphs send', () => {
    expect(hintFromCacheControl('max-age=30, public')).toEqual({ maxAge: 30, scope: 'PUBLIC' });
    expect(hintFromCacheControl('max-age=60, private')).toEqual({ maxAge: 60, scope: 'PRIVATE' });
    expect(hintFromCacheControl('Max-Age = 5 ,PUBLIC')).toEqual({ maxAge: 5, scope: 'PUBLIC' });
  });

  it('takes no header, no-store, no-cache and anything it cannot read as max-age 0', () => {
    for (const header of [undefined, null, '', 'no-store', 'max-age=30, no-store', 'no-cache, max-age=30', 'max-age=abc, public', 'max-age=-1', 'public']) {
      expect(hintFromCacheControl(header).maxAge, String(header)).toBe(0);
    }
  });

  it('lets private win over public', () => {
    expect(hintFromCacheControl('max-age=30, public, private').scope).toBe('PRIVATE');
  });
});
