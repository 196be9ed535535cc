import { describe, expect, it } from 'vitest';
import { readReferenceFile } from '@analytica/instruments';
import { SAMPLE_BARS, SAMPLE_TICKS } from './index.js';
import { createReplay, parseReplayCsv, readReplayFile } from './replay.js';
import type { TickPayload } from './ticks.js';

const instruments = new Map((await readReferenceFile()).instruments.map((i) => [i.symbol, i]));

describe('replay', () => {
  it('reads the bundled samples of ticks and of bars', async () => {
    const ticks = await readReplayFile(SAMPLE_TICKS, instruments, 60);
    expect(ticks.length).toBeGreaterThan(200);
    expect(ticks[0]).toMatchObject({ offsetMs: 0, symbol: 'AAPL' });
    const bars = await readReplayFile(SAMPLE_BARS, instruments, 60);
    expect(bars.length).toBe(90 * 4);
  });

  it('plays a bar as open, low, high, close inside the bar on a rising bar, with its whole volume', () => {
    const trades = parseReplayCsv('time,symbol,open,high,low,close,volume\n2026-11-02T14:30:00Z,AAPL,10,12,9,11,1001\n', instruments, 60);
    expect(trades.map((t) => [t.offsetMs, t.last, t.size])).toEqual([
      [0, 10, 250],
      [15_000, 9, 250],
      [30_000, 12, 250],
      [45_000, 11, 251],
    ]);
  });

  it('names the line of a bad row', () => {
    expect(() => parseReplayCsv('time,symbol,price,size\n2026-11-02T14:30:00Z,NOPE,1,1\n', instruments, 60)).toThrow(/line 2: unknown symbol "NOPE"/);
    expect(() => parseReplayCsv('time,symbol,price,size\nyesterday,AAPL,1,1\n', instruments, 60)).toThrow(/line 2: time/);
    expect(() => parseReplayCsv('when,what\n', instruments, 60)).toThrow(/header/);
  });

  it('plays at the chosen speed with times rebased to now, and sequences that keep growing', () => {
    const trades = parseReplayCsv(
      'time,symbol,price,size\n2026-11-02T14:30:00Z,AAPL,10,100\n2026-11-02T14:31:00Z,AAPL,11,100\n2026-11-02T14:32:00Z,AAPL,12,100\n',
      instruments,
      60,
    );
    const emitted: TickPayload[] = [];
    const replay = createReplay({ trades, instruments, speed: 60, loop: false, timestamps: 'rebase', emit: (t) => emitted.push(t) });
    const start = Date.parse('2026-11-20T15:00:00Z');
    expect(replay.step(start)).toBe(1);
    expect(replay.step(start + 999)).toBe(0);
    expect(replay.step(start + 2000)).toBe(2);
    expect(replay.finished()).toBe(true);
    expect(emitted.map((t) => t.exchangeTime)).toEqual(['2026-11-20T15:00:00.000Z', '2026-11-20T15:00:01.000Z', '2026-11-20T15:00:02.000Z']);
    expect(emitted[1]!.seq).toBe(emitted[0]!.seq + 1);
    expect(emitted[0]).toMatchObject({ region: 'US', last: 10, size: 100, marketState: 'OPEN', sessionDate: '2026-11-20' });
  });
});
