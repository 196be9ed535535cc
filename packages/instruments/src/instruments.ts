import { readFile } from 'node:fs/promises';
import { z } from '@analytica/config';
import { isCurrency } from '@analytica/money';
import { TRADING_HOURS } from './venues.js';

/** GLOBAL: the crypto and currency pairs, which trade around the clock and belong to no region's market. */
export const REGIONS = ['US', 'EU', 'APAC', 'GLOBAL'] as const;
export type Region = (typeof REGIONS)[number];

const InstrumentSchema = z.object({
  symbol: z.string().regex(/^[A-Z0-9][A-Z0-9.-]{0,19}$/, 'must be an upper-case exchange symbol such as AAPL or SAP.DE'),
  name: z.string().min(1),
  exchange: z.string().regex(/^[A-Z0-9]{4}$/, 'must be an ISO 10383 market identifier code (MIC)'),
  region: z.enum(REGIONS),
  currency: z.string().refine(isCurrency, 'must be an ISO 4217 currency code'),
  sector: z.string().min(1),
  referencePrice: z.number().positive(),
});
export type Instrument = z.infer<typeof InstrumentSchema>;

/** One instrument as a store holds it (extra attributes dropped); throws if it is not one. */
export const parseInstrument = (item: unknown): Instrument => InstrumentSchema.parse(item);

const ReferenceFileSchema = z
  .object({ version: z.string().min(1), instruments: z.array(InstrumentSchema).min(1) })
  .refine((file) => new Set(file.instruments.map((i) => i.symbol)).size === file.instruments.length, {
    message: 'symbols must be unique',
  })
  // Every consumer reckons sessions by the venue (daily candles, previousClose, market state).
  .superRefine((file, ctx) => {
    file.instruments.forEach((i, n) => {
      if (!TRADING_HOURS[i.exchange]) {
        ctx.addIssue({ code: 'custom', path: ['instruments', n, 'exchange'], message: `no trading hours are known for ${i.exchange} (${i.symbol}); add them to venues.ts` });
      }
    });
  });
export type ReferenceFile = z.infer<typeof ReferenceFileSchema>;

const BUNDLED = new URL('../data/instruments.json', import.meta.url);

/**
 * The reference instruments (data/instruments.json): what the market service lists, the feed
 * trades and the ingest worker accepts ticks for. A broken file stops the start with the reason.
 */
export async function readReferenceFile(path: URL | string = BUNDLED): Promise<ReferenceFile> {
  return ReferenceFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}
