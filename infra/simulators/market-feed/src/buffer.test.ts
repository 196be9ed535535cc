import { describe, expect, it } from 'vitest';
import { createTickBuffer } from './buffer.js';

describe('the tick buffer', () => {
  it('keeps order and drops the oldest entries once full, counting them', () => {
    const buffer = createTickBuffer<number>(3);
    for (const n of [1, 2, 3, 4, 5]) buffer.push(n);
    expect(buffer.size).toBe(3);
    expect(buffer.dropped).toBe(2);
    expect(buffer.peek(10).items).toEqual([3, 4, 5]);
  });

  it('does not lose newer entries when older ones in flight were dropped meanwhile', () => {
    const buffer = createTickBuffer<number>(3);
    for (const n of [1, 2, 3]) buffer.push(n);
    const inFlight = buffer.peek(2);
    buffer.push(4); // drops 1
    buffer.push(5); // drops 2
    buffer.acknowledge(inFlight.from, inFlight.items.length);
    expect(buffer.peek(10).items).toEqual([3, 4, 5]);
  });
});
