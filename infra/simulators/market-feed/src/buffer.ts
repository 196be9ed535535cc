/**
 * A bounded first-in first-out buffer that drops the oldest entry when full: when Kafka is away
 * the feed keeps the most recent ticks, which are the ones worth delivering late. Positions are
 * absolute, so an entry dropped while a send was in flight is not acknowledged twice.
 */
export function createTickBuffer<T>(capacity: number) {
  const slots = new Array<T | undefined>(capacity);
  let start = 0;
  let end = 0;
  let dropped = 0;
  return {
    push(item: T) {
      if (end - start === capacity) {
        slots[start % capacity] = undefined;
        start++;
        dropped++;
      }
      slots[end % capacity] = item;
      end++;
    },
    /** Up to `max` of the oldest entries, left in place until acknowledged. */
    peek(max: number): { from: number; items: T[] } {
      const items: T[] = [];
      for (let i = start; i < end && items.length < max; i++) items.push(slots[i % capacity]!);
      return { from: start, items };
    },
    /** Removes entries a send delivered (those dropped meanwhile are already gone). */
    acknowledge(from: number, count: number) {
      const upTo = Math.min(from + count, end);
      for (let i = start; i < upTo; i++) slots[i % capacity] = undefined;
      start = Math.max(start, upTo);
    },
    get size() {
      return end - start;
    },
    get dropped() {
      return dropped;
    },
  };
}
export type TickBuffer<T> = ReturnType<typeof createTickBuffer<T>>;
