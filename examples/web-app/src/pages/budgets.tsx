import { useQuery } from '@apollo/client/react';
import { describeError, formatMoney } from '../format';
import { graphql } from '../gql';

const BUDGETS = graphql(`
  query Budgets {
    me {
      id
      budgets {
        id
        period
        startsOn
        endsOn
        overspent
        category {
          id
          name
        }
        amount {
          amountMinor
          currency
        }
        spent {
          amountMinor
          currency
        }
        remaining {
          amountMinor
          currency
        }
      }
    }
  }
`);

export function BudgetsPage() {
  const { data, error } = useQuery(BUDGETS, { fetchPolicy: 'cache-and-network' });
  const budgets = data?.me?.budgets ?? [];
  return (
    <section>
      <h1>Budgets</h1>
      {error && <p role="alert">{describeError(error)}</p>}
      {data && budgets.length === 0 && <p className="muted">No budget yet.</p>}
      <ul className="cards" aria-label="Budgets">
        {budgets.map((budget) => {
          const used = budget.amount.amountMinor > 0 ? Math.min(1, Math.abs(budget.spent.amountMinor) / budget.amount.amountMinor) : 1;
          return (
            <li key={budget.id}>
              <strong>{budget.category.name}</strong>
              <span className="muted">
                {budget.period.toLowerCase()}, {budget.startsOn} to {budget.endsOn}
              </span>
              <progress max={1} value={used} aria-label={`${budget.category.name} spent`} />
              <span>
                {formatMoney(budget.spent)} of {formatMoney(budget.amount)} spent;{' '}
                <span className={budget.overspent ? 'bad' : 'good'}>{budget.overspent ? 'over budget' : `${formatMoney(budget.remaining)} left`}</span>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
