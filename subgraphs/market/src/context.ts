import type DataLoader from 'dataloader';
import type { Redis } from '@analytica/redis';
import type { SubgraphContext } from '@analytica/subgraph';
import type { AlertStore } from './alerts/alerts.js';
import type { CandleStore } from './candles/candles.js';
import type { Catalogue } from './instruments/instruments.js';
import type { Quote } from './store/quote-codec.js';
import type { WatchlistStore } from './watchlists/watchlists.js';

/**
 * What every market resolver receives, made per request by startMarketService (index.ts). It has a
 * module of its own, naming only the stores' types, so that every *.graphql.ts and the service can
 * use it without importing the schema or another aggregate's GraphQL types, and no import circle
 * can run through it.
 */
export interface MarketContext extends SubgraphContext {
  catalogue: Catalogue;
  watchlists: WatchlistStore;
  candles: CandleStore;
  alerts: AlertStore;
  redis: Redis;
  /** Per request: every quote the request touches is read in one Redis round trip. */
  quotes: DataLoader<string, Quote | null>;
}
