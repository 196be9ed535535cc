import { useApolloClient } from '@apollo/client/react';
import { Link, useRoute } from './router';
import { currentSession, setSession, useSession, type Session } from './session';
import { AuditPage } from './pages/audit';
import { DeadLettersPage } from './pages/dead-letters';
import { HealthPage } from './pages/health';
import { LogsPage } from './pages/logs';
import { ModerationPage } from './pages/moderation';
import { EnrolmentPage, SignInPage } from './pages/sign-in';
import { UsagePage } from './pages/usage';
import { UsersPage } from './pages/users';

const PAGES = [
  { path: '/users', title: 'Users', page: UsersPage },
  { path: '/audit', title: 'Audit log', page: AuditPage },
  { path: '/moderation', title: 'News moderation', page: ModerationPage },
  { path: '/dead-letters', title: 'Dead letters', page: DeadLettersPage },
  { path: '/health', title: 'Health', page: HealthPage },
  { path: '/logs', title: 'Logs', page: LogsPage },
  { path: '/usage', title: 'Usage', page: UsagePage },
];

export function App() {
  const session = useSession();
  if (!session) return <SignInPage />;
  if (session.user.role !== 'ADMIN') return <AdministratorsOnly session={session} />;
  if (session.enrolmentRequired) return <EnrolmentPage />;
  return <Console session={session} />;
}

function SignOut() {
  const client = useApolloClient();
  const signOut = async () => {
    // Ends the session at the API too; the console forgets it whatever the answer.
    await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${currentSession()?.accessToken ?? ''}` },
      body: JSON.stringify({ query: 'mutation ConsoleLogout { logout }' }),
    }).catch(() => undefined);
    setSession(null);
    await client.clearStore();
  };
  return (
    <button type="button" onClick={() => void signOut()}>
      Sign out
    </button>
  );
}

/** A signed-in user who is not an administrator: told so, and shown nothing else. */
function AdministratorsOnly({ session }: { session: Session }) {
  return (
    <main className="sign-in">
      <h1>Administrators only</h1>
      <p>{session.user.email} is not an administrator. The console is for administrators only; the API refuses its data to everyone else.</p>
      <SignOut />
    </main>
  );
}

function Console({ session }: { session: Session }) {
  const { path } = useRoute();
  const current = PAGES.find((p) => p.path === path) ?? PAGES[0]!;
  const Page = current.page;
  return (
    <div className="shell">
      <nav>
        <div className="brand">Analytica console</div>
        {PAGES.map((p) => (
          <Link key={p.path} to={p.path} className={p === current ? 'active' : ''}>
            {p.title}
          </Link>
        ))}
        <div className="who">
          <div>{session.user.email}</div>
          <SignOut />
        </div>
      </nav>
      <main>
        <h1>{current.title}</h1>
        <Page />
      </main>
    </div>
  );
}
