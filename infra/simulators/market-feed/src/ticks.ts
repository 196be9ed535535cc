import type { EventPayload } from '@analytica/events';

export const TICKS_TOPIC = 'market.ticks.v1';
export type TickPayload = EventPayload<'market.ticks.v1'>;

/**
 * Each symbol's sequence starts at the feed's start time in microseconds and grows by one per
 * tick, so it keeps growing across restarts (unless a symbol had more than a thousand ticks a
 * millisecond), which is what consumers rely on to apply each tick once.
 */
export function createSequences(startMs: number) {
  const next = new Map<string, number>();
  const base = startMs * 1000;
  return (symbol: string) => {
    const seq = next.get(symbol) ?? base;
    next.set(symbol, seq + 1);
    return seq;
  };
}
