import type { Redis } from '@analytica/redis';
import type { Region } from './instruments.js';
import { moversKey } from './quotes.js';

export const MOVER_DIRECTIONS = ['GAINERS', 'LOSERS'] as const;
export type MoverDirection = (typeof MOVER_DIRECTIONS)[number];
export const MAX_MOVERS = 50;

/**
 * The symbols of a region that moved most today, in order: gainers from the highest change
 * percent down, losers from the lowest up; only those that moved that way at all. One sorted-set
 * read, whatever the size of the region: the ingest worker keeps each symbol's score current.
 */
export async function readMovers(redis: Redis, region: Region, direction: MoverDirection, limit: number): Promise<string[]> {
  return direction === 'GAINERS'
    ? redis.zrevrangebyscore(moversKey(region), '+inf', '(0', 'LIMIT', 0, limit)
    : redis.zrangebyscore(moversKey(region), '-inf', '(0', 'LIMIT', 0, limit);
}
