/**
 * Prices as geometric Brownian motion with regime-switching volatility and jumps:
 * dS/S = mu dt + sigma(regime) beta dW, plus a jump of a few percent now and then. The
 * volatility regime is shared by a region (markets calm down and panic together); each
 * instrument has its own beta and activity.
 */

/** Annualised volatility of each regime. */
import { seededRandom } from '@analytica/random';

export const REGIMES = [
  { name: 'calm', volatility: 0.12 },
  { name: 'normal', volatility: 0.22 },
  { name: 'stressed', volatility: 0.55 },
] as const;
// Per trading hour: how likely a regime gives way to each other one.
const SWITCH_PER_HOUR = [
  [0, 0.15, 0.01],
  [0.1, 0, 0.03],
  [0.05, 0.5, 0],
];
const DRIFT = 0.06;
const JUMPS_PER_HOUR = 0.02;
const JUMP_STDDEV = 0.02;
/** One trading year in seconds (252 sessions of 6.5 hours): time only moves prices while a venue trades. */
const TRADING_YEAR_SECONDS = 252 * 6.5 * 3600;
/** A year of a market that never closes: its annual volatility is spread over every second. */
const ROUND_THE_CLOCK_YEAR_SECONDS = 365 * 24 * 3600;

/** Seeded (@analytica/random), so that a feed can be replayed exactly from FEED_SEED. */
export function createRandom(seed: number) {
  const uniform = seededRandom(seed);
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  return { uniform, normal };
}
export type Random = ReturnType<typeof createRandom>;

export interface RegionRegime {
  regime: number;
}

/** Moves a region's regime on by `seconds` of trading. */
export function stepRegime(state: RegionRegime, seconds: number, random: Random) {
  const hours = seconds / 3600;
  const rates = SWITCH_PER_HOUR[state.regime]!;
  const u = random.uniform();
  let cumulative = 0;
  for (let next = 0; next < rates.length; next++) {
    cumulative += rates[next]! * hours;
    if (u < cumulative) {
      state.regime = next;
      return;
    }
  }
}

/**
 * The next price after `seconds` of trading. `multiplier` speeds up time for a livelier demo
 * (1 is a realistic market: a quarter of a percent in an hour).
 */
export function nextPrice(
  price: number,
  seconds: number,
  regime: number,
  beta: number,
  random: Random,
  multiplier = 1,
  tradingYearSeconds = TRADING_YEAR_SECONDS,
  jumpScale = 1,
): number {
  const dt = (seconds * multiplier) / tradingYearSeconds;
  const sigma = REGIMES[regime]!.volatility * beta;
  let logReturn = (DRIFT - (sigma * sigma) / 2) * dt + sigma * Math.sqrt(dt) * random.normal();
  if (random.uniform() < (JUMPS_PER_HOUR * seconds * multiplier) / 3600) {
    logReturn += JUMP_STDDEV * jumpScale * (regime === 2 ? 2 : 1) * random.normal();
  }
  return price * Math.exp(logReturn);
}

/** Price step of the venue: whole units for yen and won, tenths of a cent below 10, else cents. */
export function tickSize(price: number, currency: string): number {
  if (currency === 'JPY' || currency === 'KRW') return 1;
  return price < 10 ? 0.001 : 0.01;
}

export function roundToTick(value: number, step: number): number {
  const decimals = step >= 1 ? 0 : Math.round(-Math.log10(step));
  return Number((Math.round(value / step) * step).toFixed(decimals));
}

/** Bid and ask around the last price: a few basis points wide, wider when the market is stressed. */
export function quoteAround(last: number, currency: string, regime: number, random: Random, step = tickSize(last, currency)): { bid: number; ask: number; last: number } {
  const halfSpread = Math.max(step, last * (0.0002 + 0.0003 * random.uniform()) * (regime === 2 ? 3 : 1));
  const rounded = Math.max(step, roundToTick(last, step));
  return { last: rounded, bid: Math.max(step, roundToTick(rounded - halfSpread, step)), ask: roundToTick(rounded + halfSpread, step) };
}

/** Shares in one trade: mostly round lots of 100, some odd lots, now and then a block. */
export function tradeSize(random: Random): number {
  const u = random.uniform();
  if (u < 0.2) return 1 + Math.floor(random.uniform() * 99);
  if (u > 0.99) return 100 * (50 + Math.floor(random.uniform() * 450));
  return 100 * (1 + Math.floor(Math.exp(random.normal() * 0.8)));
}

/**
 * How an instrument's price moves and trades. Shares follow the venue's session; the pairs that
 * trade around the clock (sector Cryptocurrency or Currency) spread their annual volatility over
 * the whole year, crypto swings about three times as much as a share and a major currency pair
 * about a third as much, and each quotes and trades in its own units.
 */
export interface PriceProfile {
  /** Multiplies the region regime's volatility (with the instrument's own beta). */
  volatility: number;
  tradingYearSeconds: number;
  /** Multiplies the size of the occasional jump (a few percent for a share). */
  jumpScale: number;
  /** The price step at a price. */
  tick(price: number): number;
  /** The size of one trade: shares, coins, or units of the pair's first currency. */
  size(random: Random): number;
}

export function priceProfile(instrument: { sector: string; currency: string }): PriceProfile {
  switch (instrument.sector) {
    case 'Cryptocurrency':
      return {
        volatility: 3,
        tradingYearSeconds: ROUND_THE_CLOCK_YEAR_SECONDS,
        jumpScale: 1,
        tick: (price) => (price < 10 ? 0.0001 : 0.01),
        // Whole coins (the volume is an integer): mostly one to a few, now and then a block.
        size: (random) => 1 + Math.floor(Math.exp(random.normal() * 1.2)),
      };
    case 'Currency':
      return {
        volatility: 0.4,
        tradingYearSeconds: ROUND_THE_CLOCK_YEAR_SECONDS,
        jumpScale: 0.2,
        // Fractional pips: five decimals, three for a rate above 10 such as USD-JPY.
        tick: (price) => (price < 10 ? 0.00001 : 0.001),
        // Units of the first currency, in micro lots of 1,000.
        size: (random) => 1000 * (1 + Math.floor(Math.exp(random.normal() * 1.5) * 10)),
      };
    default:
      return { volatility: 1, tradingYearSeconds: TRADING_YEAR_SECONDS, jumpScale: 1, tick: (price) => tickSize(price, instrument.currency), size: tradeSize };
  }
}
