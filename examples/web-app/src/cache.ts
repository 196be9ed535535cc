import { InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

/**
 * The normalised cache the README's "Apollo Client cache" section describes. Every entity the API
 * lists has an `id` (Quote and Instrument: the symbol), so InMemoryCache keeps one object per
 * `__typename:id`: a quote that arrives over the socket replaces the one Quote every watchlist row
 * shows, with no code to copy it there. Only the types without an id, and the connections, need a
 * word here.
 */
export function createCache() {
  return new InMemoryCache({
    typePolicies: {
      Candle: { keyFields: ['symbol', 'interval', 'start'] },
      NewsSource: { keyFields: ['name'] },
      ArticleFlag: { keyFields: ['articleId', 'flaggedBy'] },
      // Values without an identity of their own: kept inside their parent, replaced whole.
      Money: { keyFields: false, merge: true },
      PageInfo: { keyFields: false },
      Movers: { fields: { gainers: { merge: false }, losers: { merge: false } } },
      // Connections: "Load more" appends the next page to one list per filter (and sort).
      Query: { fields: { articles: relayStylePagination(['filter', 'sort']) } },
      User: {
        fields: {
          transactions: relayStylePagination(['filter', 'sort']),
          paymentsConnection: relayStylePagination(['filter']),
          myFeed: relayStylePagination(),
          savedArticlesConnection: relayStylePagination(),
        },
      },
    },
  });
}
