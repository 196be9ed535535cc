import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { useLiveState } from '../client';
import { describeError, formatPrice, formatTime } from '../format';
import { graphql } from '../gql';

// The same Quote fields in the list and on the socket, with its id: Apollo's cache stores one
// Quote:<symbol>, so each quote the socket brings updates its row without any code here.
export const WATCHLIST_QUOTE = graphql(`
  fragment WatchlistQuote on Quote {
    id
    last
    change
    changePercent
    time
    marketState
    stale
  }
`);

const WATCHLIST = graphql(`
  query Watchlist {
    me {
      id
      watchlist {
        id
        symbol
        name
        currency
        quote {
          ...WatchlistQuote
        }
      }
    }
  }
`);

const LIVE_QUOTES = graphql(`
  subscription LiveQuotes($symbols: [String!]!) {
    quotes(symbols: $symbols) {
      ...WatchlistQuote
    }
  }
`);

const ADD = graphql(`
  mutation AddToWatchlist($symbol: String!) {
    addToWatchlist(symbol: $symbol) {
      id
    }
  }
`);

const REMOVE = graphql(`
  mutation RemoveFromWatchlist($symbol: String!) {
    removeFromWatchlist(symbol: $symbol) {
      id
    }
  }
`);

const LIVE_LABELS = { idle: 'Offline', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

export function WatchlistPage() {
  const { data, error } = useQuery(WATCHLIST);
  const instruments = data?.me?.watchlist ?? [];
  const symbols = instruments.map((i) => i.symbol);
  // The subscription's data is not read here: each quote lands in the cache, and the rows re-render.
  const live = useSubscription(LIVE_QUOTES, { variables: { symbols }, skip: symbols.length === 0 });
  const liveState = useLiveState();
  const [symbol, setSymbol] = useState('');
  const [add, adding] = useMutation(ADD, { refetchQueries: [WATCHLIST] });
  const [remove] = useMutation(REMOVE, { refetchQueries: [WATCHLIST] });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await add({ variables: { symbol: symbol.trim().toUpperCase() } }).then(
      () => setSymbol(''),
      () => undefined,
    );
  };

  return (
    <section>
      <h1>
        Watchlist{' '}
        <span className={`badge ${liveState}`} data-testid="live-state">
          {LIVE_LABELS[liveState]}
        </span>
      </h1>
      {error && <p role="alert">{describeError(error)}</p>}
      {live.error && <p role="alert">{describeError(live.error)}</p>}
      <table aria-label="Watchlist">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Name</th>
            <th className="amount">Last</th>
            <th className="amount">Change</th>
            <th>Updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {instruments.map((instrument) => {
            const quote = instrument.quote;
            return (
              <tr key={instrument.id} data-symbol={instrument.symbol}>
                <td>{instrument.symbol}</td>
                <td>{instrument.name}</td>
                <td className="amount" data-testid="last">
                  {quote ? formatPrice(quote.last, instrument.currency) : '—'}
                </td>
                <td className={`amount ${quote && quote.change < 0 ? 'bad' : 'good'}`}>{quote ? `${quote.changePercent.toFixed(2)} %` : ''}</td>
                <td data-testid="quote-time">
                  {quote?.time ? formatTime(quote.time) : ''} {quote?.marketState === 'CLOSED' && <span className="muted">closed</span>}
                </td>
                <td>
                  <button type="button" className="link" onClick={() => void remove({ variables: { symbol: instrument.symbol } })}>
                    Remove {instrument.symbol}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <form className="inline" onSubmit={(event) => void submit(event)}>
        <label>
          Add a symbol
          <input value={symbol} onChange={(e) => setSymbol(e.target.value)} placeholder="e.g. AAPL" required />
        </label>
        <button type="submit" disabled={adding.loading}>
          Add
        </button>
        {adding.error && <p role="alert">{describeError(adding.error)}</p>}
      </form>
    </section>
  );
}
