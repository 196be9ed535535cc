import type { Instrument, Region } from '@analytica/market-subgraph/instruments';
import { createVenueClock, type MarketState } from './exchanges.js';
import { createRandom, nextPrice, quoteAround, stepRegime, tradeSize, type Random, type RegionRegime } from './prices.js';
import { createSequences, type TickPayload } from './ticks.js';

export interface LiveFeedOptions {
  instruments: readonly Instrument[];
  /** Ticks per second for each symbol whose venue is open. */
  ticksPerSymbol: number;
  /** Ticks per second in all, shared by the open symbols; overrides ticksPerSymbol. */
  ticksPerSecond?: number;
  alwaysOpen: boolean;
  seed: number;
  volatilityMultiplier: number;
  emit(tick: TickPayload): void;
  /** Prices and regimes from an earlier run, so that a restart does not jump back to the reference prices. */
  saved?: SavedFeedState;
}

export interface SavedFeedState {
  prices: Record<string, number>;
  regimes: Partial<Record<Region, number>>;
}

interface SymbolState {
  instrument: Instrument;
  price: number;
  /** Sensitivity to its region's volatility. */
  beta: number;
  /** Share of the trading: large caps trade more often than small ones. */
  weight: number;
  lastTradeMs: number;
  state: MarketState | undefined;
}

// A gap after a close moves the price as an hour of trading would, not as the whole night.
const MAX_GAP_SECONDS = 3600;

/**
 * The live feed: trades for the symbols whose venue is open, at the configured rate, with a
 * CLOSED status message for each symbol when its venue closes (and at start for the closed ones).
 */
export function createLiveFeed(options: LiveFeedOptions) {
  const random: Random = createRandom(options.seed);
  const clock = createVenueClock(options.alwaysOpen);
  const nextSeq = createSequences(Date.now());
  const symbols: SymbolState[] = options.instruments.map((instrument) => ({
    instrument,
    price: options.saved?.prices[instrument.symbol] ?? instrument.referencePrice,
    beta: 0.7 + 0.8 * random.uniform(),
    weight: Math.exp(random.normal() * 0.6),
    lastTradeMs: 0,
    state: undefined,
  }));
  const regimes = new Map<Region, RegionRegime>(
    (['US', 'EU', 'APAC'] as const).map((region) => [region, { regime: options.saved?.regimes[region] ?? 1 }]),
  );
  let open: SymbolState[] = [];
  let cumulative: number[] = [];
  let lastSecond = -1;
  let lastStepMs = 0;
  let carry = 0;

  function tick(s: SymbolState, nowMs: number, size: number, state: MarketState, sessionDate: string) {
    const regime = regimes.get(s.instrument.region)!.regime;
    const prices = quoteAround(s.price, s.instrument.currency, regime, random);
    options.emit({
      symbol: s.instrument.symbol,
      region: s.instrument.region,
      ...prices,
      size,
      exchangeTime: new Date(nowMs).toISOString(),
      seq: nextSeq(s.instrument.symbol),
      marketState: state,
      sessionDate,
    });
  }

  /** Once a second: which venues trade, status messages for those that closed, the regimes. */
  function everySecond(nowMs: number, elapsedSeconds: number) {
    const at = new Date(nowMs);
    for (const regime of regimes.values()) stepRegime(regime, elapsedSeconds, random);
    for (const s of symbols) {
      const status = clock(s.instrument.exchange, at);
      if (status.state === 'CLOSED' && s.state !== 'CLOSED') tick(s, nowMs, 0, 'CLOSED', status.sessionDate);
      s.state = status.state;
    }
    open = symbols.filter((s) => s.state === 'OPEN');
    let total = 0;
    cumulative = open.map((s) => (total += s.weight));
  }

  function pick(): SymbolState {
    const target = random.uniform() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return open[lo]!;
  }

  /** Emits the ticks due since the last step. */
  function step(nowMs: number) {
    const second = Math.floor(nowMs / 1000);
    if (second !== lastSecond) {
      everySecond(nowMs, lastSecond < 0 ? 0 : second - lastSecond);
      lastSecond = second;
    }
    const elapsed = lastStepMs ? (nowMs - lastStepMs) / 1000 : 0;
    lastStepMs = nowMs;
    if (open.length === 0) return 0;
    const rate = options.ticksPerSecond ?? open.length * options.ticksPerSymbol;
    // A stalled event loop is not made up for with a burst of more than a second's ticks.
    const due = Math.min(rate * elapsed + carry, Math.max(rate, 1));
    const count = Math.floor(due);
    carry = due - count;
    for (let n = 0; n < count; n++) {
      const s = pick();
      const gap = s.lastTradeMs ? Math.min((nowMs - s.lastTradeMs) / 1000, MAX_GAP_SECONDS) : 0;
      s.price = nextPrice(s.price, gap, regimes.get(s.instrument.region)!.regime, s.beta, random, options.volatilityMultiplier);
      s.lastTradeMs = nowMs;
      tick(s, nowMs, tradeSize(random), 'OPEN', clock(s.instrument.exchange, new Date(nowMs)).sessionDate);
    }
    return count;
  }

  return {
    step,
    snapshot(): SavedFeedState {
      return {
        prices: Object.fromEntries(symbols.map((s) => [s.instrument.symbol, s.price])),
        regimes: Object.fromEntries([...regimes].map(([region, r]) => [region, r.regime])),
      };
    },
    openSymbols: () => open.length,
  };
}
