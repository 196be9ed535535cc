import { describe, expect, it } from 'vitest';
import { payeeKey } from './payees.js';

describe('payees', () => {
  it('are one payee however the name is spaced or capitalised', () => {
    expect(payeeKey('  ACME   Corp ')).toBe(payeeKey('acme corp'));
    expect(payeeKey('Ｃｏｆｆｅｅ')).toBe('coffee');
    expect(payeeKey('Acme Corp')).not.toBe(payeeKey('Acme Corporation'));
  });
});
