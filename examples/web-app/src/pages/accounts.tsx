import { useQuery } from '@apollo/client/react';
import { useDeferredValue, useState } from 'react';
import { describeError, formatDate, formatMoney } from '../format';
import { graphql } from '../gql';
import type { TransactionFilter } from '../gql/graphql';

const ACCOUNTS = graphql(`
  query Accounts {
    me {
      id
      accounts {
        id
        name
        type
        balance {
          amountMinor
          currency
        }
      }
      categories {
        id
        name
      }
    }
  }
`);

const TRANSACTIONS = graphql(`
  query Transactions($filter: TransactionFilter, $after: String) {
    me {
      id
      transactions(filter: $filter, first: 25, after: $after) {
        totalCount
        edges {
          cursor
          node {
            id
            bookedAt
            payee
            notes
            amount {
              amountMinor
              currency
            }
            category {
              id
              name
            }
            account {
              id
              name
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

/** A date input's day as the start (or the end) of that day in UTC, as the API's filter takes it. */
const dayBound = (day: string, end: boolean) => (day ? `${day}T${end ? '23:59:59.999' : '00:00:00.000'}Z` : undefined);

export function AccountsPage() {
  // Balances change from elsewhere too (another device, a payment booked): show the cached ones, then the API's.
  const accounts = useQuery(ACCOUNTS, { fetchPolicy: 'cache-and-network' });
  const [accountId, setAccountId] = useState('');
  const [categoryId, setCategoryId] = useState('');
  const [search, setSearch] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  // Typing in the search box asks the API once the person pauses, not on every key.
  const deferredSearch = useDeferredValue(search);
  const filter: TransactionFilter = {
    accountId: accountId || undefined,
    categoryId: categoryId || undefined,
    search: deferredSearch.trim() || undefined,
    from: dayBound(from, false),
    to: dayBound(to, true),
  };
  const transactions = useQuery(TRANSACTIONS, { variables: { filter }, notifyOnNetworkStatusChange: true });
  const page = transactions.data?.me?.transactions;

  return (
    <section>
      <h1>Accounts</h1>
      {accounts.error && <p role="alert">{describeError(accounts.error)}</p>}
      <ul className="cards" aria-label="Accounts">
        {accounts.data?.me?.accounts?.map((account) => (
          <li key={account.id}>
            <strong>{account.name}</strong>
            <span className="muted">{account.type.toLowerCase()}</span>
            <span className="amount">{formatMoney(account.balance)}</span>
          </li>
        ))}
      </ul>

      <h2>Transactions</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Account
          <select value={accountId} onChange={(e) => setAccountId(e.target.value)}>
            <option value="">All accounts</option>
            {accounts.data?.me?.accounts?.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Category
          <select value={categoryId} onChange={(e) => setCategoryId(e.target.value)}>
            <option value="">All categories</option>
            {accounts.data?.me?.categories?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Payee or notes" />
        </label>
        <label>
          From
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
      </form>
      {transactions.error && <p role="alert">{describeError(transactions.error)}</p>}
      {page && (
        <>
          <p className="muted" data-testid="transaction-count">
            Showing {page.edges.length.toLocaleString()} of {page.totalCount.toLocaleString()}
          </p>
          <table aria-label="Transactions">
            <thead>
              <tr>
                <th>Date</th>
                <th>Payee</th>
                <th>Category</th>
                <th>Account</th>
                <th className="amount">Amount</th>
              </tr>
            </thead>
            <tbody>
              {page.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td>{formatDate(node.bookedAt)}</td>
                  <td>
                    {node.payee}
                    {node.notes && <div className="muted">{node.notes}</div>}
                  </td>
                  <td>{node.category?.name ?? <span className="muted">uncategorised</span>}</td>
                  <td>{node.account.name}</td>
                  <td className="amount">{formatMoney(node.amount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.pageInfo.hasNextPage && (
            <button type="button" disabled={transactions.loading} onClick={() => void transactions.fetchMore({ variables: { after: page.pageInfo.endCursor } })}>
              Load more
            </button>
          )}
        </>
      )}
    </section>
  );
}
