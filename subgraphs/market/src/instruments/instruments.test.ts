import { describe, expect, it } from 'vitest';
import { readReferenceFile, type Instrument } from '@analytica/instruments';
import { createCatalogue, searchInstruments } from './instruments.js';

const reference = await readReferenceFile();
const catalogue = createCatalogue(reference.instruments);
const symbols = (found: Instrument[]) => found.map((i) => i.symbol);

describe('searchInstruments', () => {
  it('puts the exact symbol first, even without its venue suffix', () => {
    expect(symbols(searchInstruments(catalogue, { query: 'aapl', first: 5 }))[0]).toBe('AAPL');
    expect(symbols(searchInstruments(catalogue, { query: 'sap', first: 5 }))[0]).toBe('SAP.DE');
  });

  it('matches names without accents or punctuation', () => {
    expect(symbols(searchInstruments(catalogue, { query: 'nestle', first: 5 }))).toContain('NESN.SW');
    expect(symbols(searchInstruments(catalogue, { query: 'loreal', first: 5 }))).toContain('OR.PA');
  });

  it('filters by region and sector (any letter case) and stops at first', () => {
    const banks = searchInstruments(catalogue, { region: 'APAC', sector: 'financials', first: 3 });
    expect(banks).toHaveLength(3);
    for (const i of banks) expect(i).toMatchObject({ region: 'APAC', sector: 'Financials' });
    expect(searchInstruments(catalogue, { query: 'toyota', region: 'US', first: 5 })).toEqual([]);
  });
});
