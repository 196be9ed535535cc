import { useApolloClient } from '@apollo/client/react';
import { useState } from 'react';
import type { AppConfig } from './config';
import { AccountsPage } from './pages/accounts';
import { BudgetsPage } from './pages/budgets';
import { NewsPage } from './pages/news';
import { PaymentsPage } from './pages/payments';
import { SignInPage } from './pages/sign-in';
import { StatementUploadPage } from './pages/statement-upload';
import { WatchlistPage } from './pages/watchlist';
import { currentSession, setSession, useSession } from './session';

const PAGES = {
  Accounts: AccountsPage,
  Budgets: BudgetsPage,
  Watchlist: WatchlistPage,
  News: NewsPage,
  Payments: PaymentsPage,
  Import: StatementUploadPage,
} as const;
type PageName = keyof typeof PAGES;

export function App({ config }: { config: AppConfig }) {
  const session = useSession();
  const client = useApolloClient();
  const [pageName, setPageName] = useState<PageName>('Accounts');
  if (!session) return <SignInPage />;
  const Page = PAGES[pageName];

  const signOut = async () => {
    // Ends the session at the API as well; the app forgets it whatever the answer.
    const token = currentSession()?.accessToken;
    await fetch(config.apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? ''}` },
      body: JSON.stringify({ query: 'mutation SignOut { logout }' }),
    }).catch(() => undefined);
    setSession(null);
    await client.clearStore();
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
