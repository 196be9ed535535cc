import { REGIONS, type Instrument, type Region } from '@analytica/instruments';
import { createVenueClock, type MarketState } from './exchanges.js';
import { createRandom, nextPrice, priceProfile, quoteAround, stepRegime, type PriceProfile, type Random, type RegionRegime } from './prices.js';
import { createSequences, type TickPayload } from './ticks.js';

export interface LiveFeedOptions {
  instruments: readonly Instrument[];
  /** Ticks per second for each symbol whose venue is open. */
  ticksPerSymbol: number;
  /** Ticks per second in all, shared by the open symbols; overrides ticksPerSymbol. */
  ticksPerSecond?: number;
  /**
   * Symbols that trade ticksPerSymbol times a second each while their venue is open, on a regular
   * beat rather than by chance, and outside the shared rate: what a demo's watchlist needs.
   */
  steadySymbols?: ReadonlySet<string>;
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
  profile: PriceProfile;
  lastTradeMs: number;
  state: MarketState | undefined;
  steady: boolean;
  /** A steady symbol's next trade (epoch ms). */
  dueMs: number;
}

// A gap after a close moves the price as an hour of trading would, not as the whole night.
const MAX_GAP_SECONDS = 3600;

/**
 * The live feed: trades for the symbols whose venue is open, at the configured rate, with a status
 * message (size 0) for each symbol when its venue opens or closes, and at start, so that a quote's
 * market state follows the venue without waiting for a trade.
 */
export function createLiveFeed(options: LiveFeedOptions) {
  const random: Random = createRandom(options.seed);
  const clock = createVenueClock(options.alwaysOpen);
  const nextSeq = createSequences(Date.now());
  const symbols: SymbolState[] = options.instruments.map((instrument) => {
    const profile = priceProfile(instrument);
    return {
      instrument,
      price: options.saved?.prices[instrument.symbol] ?? instrument.referencePrice,
      beta: (0.7 + 0.8 * random.uniform()) * profile.volatility,
      weight: Math.exp(random.normal() * 0.6),
      profile,
      lastTradeMs: 0,
      state: undefined,
      steady: options.steadySymbols?.has(instrument.symbol) ?? false,
      dueMs: 0,
    };
  });
  const beatMs = 1000 / options.ticksPerSymbol;
  const regimes = new Map<Region, RegionRegime>(REGIONS.map((region) => [region, { regime: options.saved?.regimes[region] ?? 1 }]));
  /** Open symbols that share the rate, and open steady ones. */
  let open: SymbolState[] = [];
  let openSteady: SymbolState[] = [];
  let cumulative: number[] = [];
  let statuses = 0;
  let lastSecond = -1;
  let lastStepMs = 0;
  let carry = 0;

  function tick(s: SymbolState, nowMs: number, size: number, state: MarketState, sessionDate: string) {
    const regime = regimes.get(s.instrument.region)!.regime;
    const prices = quoteAround(s.price, s.instrument.currency, regime, random, s.profile.tick(s.price));
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

  /** Once a second: which venues trade, status messages for those that opened or closed, the regimes. */
  function everySecond(nowMs: number, elapsedSeconds: number) {
    const at = new Date(nowMs);
    for (const regime of regimes.values()) stepRegime(regime, elapsedSeconds, random);
    for (const s of symbols) {
      const status = clock(s.instrument.exchange, at);
      if (status.state !== s.state) {
        tick(s, nowMs, 0, status.state, status.sessionDate);
        statuses++;
        // Steady symbols start their beat at a random phase, so that they do not all trade in the same step.
        if (status.state === 'OPEN') s.dueMs = nowMs + random.uniform() * beatMs;
      }
      s.state = status.state;
    }
    open = symbols.filter((s) => s.state === 'OPEN' && !s.steady);
    openSteady = symbols.filter((s) => s.state === 'OPEN' && s.steady);
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

  function trade(s: SymbolState, nowMs: number) {
    const gap = s.lastTradeMs ? Math.min((nowMs - s.lastTradeMs) / 1000, MAX_GAP_SECONDS) : 0;
    const regime = regimes.get(s.instrument.region)!.regime;
    s.price = nextPrice(s.price, gap, regime, s.beta, random, options.volatilityMultiplier, s.profile.tradingYearSeconds, s.profile.jumpScale);
    s.lastTradeMs = nowMs;
    tick(s, nowMs, s.profile.size(random), 'OPEN', clock(s.instrument.exchange, new Date(nowMs)).sessionDate);
  }

  /** Emits the messages due since the last step; answers how many. */
  function step(nowMs: number) {
    statuses = 0;
    const second = Math.floor(nowMs / 1000);
    if (second !== lastSecond) {
      everySecond(nowMs, lastSecond < 0 ? 0 : second - lastSecond);
      lastSecond = second;
    }
    const elapsed = lastStepMs ? (nowMs - lastStepMs) / 1000 : 0;
    lastStepMs = nowMs;
    let count = 0;
    for (const s of openSteady) {
      // After a stalled event loop the beat starts again from now rather than catching up in a burst.
      if (nowMs - s.dueMs > 1000) s.dueMs = nowMs;
      while (s.dueMs <= nowMs) {
        trade(s, nowMs);
        s.dueMs += beatMs;
        count++;
      }
    }
    if (open.length === 0) return count + statuses;
    const rate = options.ticksPerSecond ?? open.length * options.ticksPerSymbol;
    // A stalled event loop is not made up for with a burst of more than a second's ticks.
    const due = Math.min(rate * elapsed + carry, Math.max(rate, 1));
    const shared = Math.floor(due);
    carry = due - shared;
    for (let n = 0; n < shared; n++) trade(pick(), nowMs);
    return count + shared + statuses;
  }

  return {
    step,
    snapshot(): SavedFeedState {
      return {
        prices: Object.fromEntries(symbols.map((s) => [s.instrument.symbol, s.price])),
        regimes: Object.fromEntries([...regimes].map(([region, r]) => [region, r.regime])),
      };
    },
    /** Symbols whose venue is open now, steady ones included. */
    openSymbols: () => open.length + openSteady.length,
  };
}
