import { venueStatus, type VenueStatus } from '@analytica/instruments';

// The venue calendar lives with the reference instruments (@analytica/instruments), so that the
// subgraph's marketState and nextOpen and the launchers' banners answer from the same hours the
// feed trades by.
export { ALWAYS_OPEN_VENUE, neverCloses, TRADING_HOURS, venueStatus, type MarketState, type VenueStatus } from '@analytica/instruments';

/** venueStatus, remembered for a second: the feed asks for every tick. */
export function createVenueClock(alwaysOpen: boolean) {
  const cache = new Map<string, { second: number; status: VenueStatus }>();
  return (mic: string, at: Date): VenueStatus => {
    const second = Math.floor(at.getTime() / 1000);
    const hit = cache.get(mic);
    if (hit && hit.second === second) return hit.status;
    const status = venueStatus(mic, at);
    if (alwaysOpen) status.state = 'OPEN';
    cache.set(mic, { second, status });
    return status;
  };
}
