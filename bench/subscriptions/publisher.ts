// The feed: 1 tick/s per symbol, spread evenly over each second (200 symbols = one tick every
// 5 ms), published the way the market feed will: channel `<prefix>Quote.<SYMBOL>`, payload every
// Quote field the market subgraph has, `time` = the moment of publishing (the exchange timestamp
// the clients measure latency from).
import hdr from 'hdr-histogram-js';
import type { Redis } from '@analytica/redis';

export interface FeedInstrument {
  symbol: string;
  currency: string;
  referencePrice: number;
}

interface SymbolState {
  instrument: FeedInstrument;
  last: number;
  open: number;
  high: number;
  low: number;
  volume: number;
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/** The next quote of one symbol: a small random walk around its reference price. */
function nextQuote(state: SymbolState, now: Date): Record<string, unknown> {
  const previousClose = state.instrument.referencePrice;
  state.last = round4(Math.max(0.01, state.last * (1 + (Math.random() - 0.5) * 0.002)));
  state.high = Math.max(state.high, state.last);
  state.low = Math.min(state.low, state.last);
  state.volume += 100 + Math.floor(Math.random() * 900);
  const change = round4(state.last - previousClose);
  const halfSpread = round4(state.last * 0.0002);
  return {
    __typename: 'Quote',
    symbol: state.instrument.symbol,
    currency: state.instrument.currency,
    last: state.last,
    bid: round4(state.last - halfSpread),
    ask: round4(state.last + halfSpread),
    open: state.open,
    high: state.high,
    low: state.low,
    previousClose,
    change,
    changePercent: Math.round((change / previousClose) * 1_000_000) / 10_000,
    volume: state.volume,
    time: now.toISOString(),
    marketState: 'OPEN',
  };
}

/**
 * Publishes until stopped. Ticks are scheduled on a fixed grid; if the event loop is late, the
 * late ticks go out at once and the delay is recorded (`lateness`), so that a slow publisher shows
 * up in the figures instead of silently thinning the feed.
 */
export function startTickPublisher(redis: Redis, channelPrefix: string, instruments: FeedInstrument[], ticksPerSecondPerSymbol = 1) {
  const states: SymbolState[] = instruments.map((instrument) => ({
    instrument,
    last: instrument.referencePrice,
    open: instrument.referencePrice,
    high: instrument.referencePrice,
    low: instrument.referencePrice,
    volume: 0,
  }));
  const intervalMs = 1000 / (instruments.length * ticksPerSecondPerSymbol);
  const lateness = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000, numberOfSignificantValueDigits: 2 });
  const startedAt = performance.now();
  let sent = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function publishOne(lateMs: number) {
    const state = states[sent % states.length]!;
    const payload = nextQuote(state, new Date());
    redis.publish(`${channelPrefix}Quote.${state.instrument.symbol}`, JSON.stringify(payload)).catch(() => failures++);
    lateness.recordValue(Math.round(lateMs));
    sent++;
  }

  function pump() {
    if (stopped) return;
    const now = performance.now();
    while (startedAt + sent * intervalMs <= now) publishOne(now - (startedAt + sent * intervalMs));
    timer = setTimeout(pump, Math.max(0, startedAt + sent * intervalMs - performance.now()));
  }
  pump();

  return {
    /** Ticks published so far, failed publishes, and how late ticks left (ms) since the last reset. */
    stats() {
      return { sent, failures, lateP99Ms: lateness.getValueAtPercentile(99), lateMaxMs: lateness.maxValue };
    },
    resetLateness: () => lateness.reset(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
export type TickPublisher = ReturnType<typeof startTickPublisher>;
