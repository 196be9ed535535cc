import { describe, expect, it } from 'vitest';
import { createCatalogue, readReferenceFile, searchInstruments, type Instrument } from './instruments.js';

const reference = await readReferenceFile();
const catalogue = createCatalogue(reference.instruments);
const symbols = (found: Instrument[]) => found.map((i) => i.symbol);

describe('the bundled reference instruments', () => {
  it('hold at least 200 unique instruments across the US, EU and APAC regions', () => {
    expect(reference.instruments.length).toBeGreaterThanOrEqual(200);
    expect(new Set(symbols(reference.instruments)).size).toBe(reference.instruments.length);
    for (const region of ['US', 'EU', 'APAC'] as const) {
      expect(reference.instruments.filter((i) => i.region === region).length).toBeGreaterThanOrEqual(40);
    }
  });

  it('list well-known symbols the way their venues do, with MIC, currency and a reference price', () => {
    expect(catalogue.get('AAPL')).toMatchObject({ exchange: 'XNAS', region: 'US', currency: 'USD' });
    expect(catalogue.get('SAP.DE')).toMatchObject({ exchange: 'XETR', region: 'EU', currency: 'EUR' });
    expect(catalogue.get('7203.T')).toMatchObject({ exchange: 'XTKS', region: 'APAC', currency: 'JPY' });
    for (const i of reference.instruments) expect(i.referencePrice).toBeGreaterThan(0);
  });
});

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
