import { useApolloClient } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { graphql } from './gql';
import { AccountsPage } from './pages/accounts';
import { BudgetsPage } from './pages/budgets';
import { NewsPage } from './pages/news';
import { PaymentsPage } from './pages/payments';
import { SignInPage } from './pages/sign-in';
import { StatementUploadPage } from './pages/statement-upload';
import { WatchlistPage } from './pages/watchlist';
import { setSession, useSession } from './session';

const SIGN_OUT = graphql(`
  mutation SignOut {
    logout
  }
`);

const PAGES = {
  Accounts: AccountsPage,
  Budgets: BudgetsPage,
  Watchlist: WatchlistPage,
  News: NewsPage,
  Payments: PaymentsPage,
  Import: StatementUploadPage,
} as const;
type PageName = keyof typeof PAGES;

export function App() {
  const session = useSession();
  const client = useApolloClient();
  const [pageName, setPageName] = useState<PageName>('Accounts');
  // However the session ended (signed out here, a renewal refused, the socket closed with 4401 by a
  // logout elsewhere), nothing of it stays in memory for whoever signs in next on this tab.
  const signedIn = session !== null;
  useEffect(() => {
    if (!signedIn) void client.clearStore();
  }, [signedIn, client]);
  if (!session) return <SignInPage />;
  const Page = PAGES[pageName];

  const signOut = async () => {
    // Ends the session at the API too (through the client, so an expired token is renewed first and
    // the session really ends); the app forgets it whatever the answer.
    await client.mutate({ mutation: SIGN_OUT }).catch(() => undefined);
    setSession(null);
  };

  return (
    <>
      <header>
        <strong className="brand">Analytica</strong>
        <nav aria-label="Pages">
          {(Object.keys(PAGES) as PageName[]).map((name) => (
            <button key={name} type="button" className={name === pageName ? 'current' : ''} aria-current={name === pageName ? 'page' : undefined} onClick={() => setPageName(name)}>
              {name}
            </button>
          ))}
        </nav>
        <span className="muted" data-testid="signed-in-as">
          {session.user.displayName}
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main>
        <Page />
      </main>
    </>
  );
}
