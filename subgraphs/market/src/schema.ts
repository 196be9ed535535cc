import { buildFederatedSchema, userReference } from '@analytica/subgraph';
// The order of these imports is the order of the fields of Query, Mutation and Subscription in the
// printed schema (type-graphql takes them as the modules define them): keep it, or
// `npm run schema:check` fails.
import { instrumentReference, InstrumentResolver } from './instruments/instruments.graphql.js';
import { InstrumentMarketResolver, QuoteResolver, quoteReference, QuoteSubscription } from './quotes/quotes.graphql.js';
import { MoversQuery, moversReference, MoversResolver } from './movers/movers.graphql.js';
import { CandleResolver } from './candles/candles.graphql.js';
import { UserWatchlistResolver } from './watchlists/watchlists.graphql.js';
import { PriceAlertResolver, priceAlertReference, priceAlertTriggerReference, PriceAlertTriggerSubscription, UserPriceAlertsResolver } from './alerts/alerts.graphql.js';
import { User } from './user/user.graphql.js';

export function buildMarketSchema() {
  return buildFederatedSchema({
    resolvers: [
      InstrumentResolver,
      InstrumentMarketResolver,
      QuoteResolver,
      QuoteSubscription,
      MoversQuery,
      MoversResolver,
      CandleResolver,
      UserWatchlistResolver,
      UserPriceAlertsResolver,
      PriceAlertResolver,
      PriceAlertTriggerSubscription,
    ],
    orphanedTypes: [User],
    referenceResolvers: {
      User: userReference(),
      // Market data is not private, but it is for verified callers only (people and partner apps).
      Instrument: { __resolveReference: instrumentReference },
      Quote: { __resolveReference: quoteReference },
      PriceAlert: { __resolveReference: priceAlertReference },
      Movers: { __resolveReference: moversReference },
      PriceAlertTrigger: { __resolveReference: priceAlertTriggerReference },
    },
  });
}
