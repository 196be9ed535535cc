import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readReferenceFile, type Instrument } from './instruments.js';
import { neverCloses } from './venues.js';

const reference = await readReferenceFile();
const bySymbol = new Map(reference.instruments.map((i) => [i.symbol, i]));
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
    expect(bySymbol.get('AAPL')).toMatchObject({ exchange: 'XNAS', region: 'US', currency: 'USD' });
    expect(bySymbol.get('SAP.DE')).toMatchObject({ exchange: 'XETR', region: 'EU', currency: 'EUR' });
    expect(bySymbol.get('7203.T')).toMatchObject({ exchange: 'XTKS', region: 'APAC', currency: 'JPY' });
    for (const i of reference.instruments) expect(i.referencePrice).toBeGreaterThan(0);
  });

  it('hold crypto and currency pairs that trade around the clock, priced in their quote currency', () => {
    expect(bySymbol.get('BTC-USD')).toMatchObject({ exchange: 'XOFF', region: 'GLOBAL', currency: 'USD', sector: 'Cryptocurrency' });
    expect(bySymbol.get('USD-JPY')).toMatchObject({ exchange: 'XOFF', region: 'GLOBAL', currency: 'JPY', sector: 'Currency' });
    const pairs = reference.instruments.filter((i) => i.region === 'GLOBAL');
    expect(pairs.map((i) => i.symbol)).toEqual(['BTC-USD', 'ETH-USD', 'SOL-USD', 'EUR-USD', 'GBP-USD', 'USD-JPY']);
    for (const i of pairs) expect(neverCloses(i.exchange)).toBe(true);
    // Shares stay on venues with opening hours.
    expect(reference.instruments.filter((i) => neverCloses(i.exchange))).toEqual(pairs);
  });

  it('refuse a file with an instrument on a venue whose hours nobody knows', async () => {
    const file = path.join(os.tmpdir(), `instruments-${process.pid}.json`);
    const bad = { ...reference, instruments: [{ ...reference.instruments[0]!, exchange: 'XABC' }] };
    await writeFile(file, JSON.stringify(bad));
    await expect(readReferenceFile(file)).rejects.toThrow(/no trading hours are known for XABC/);
  });
});
