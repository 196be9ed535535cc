import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { currentSession } from './session';

/** The console's one API client: the gateway's /graphql on the console's own origin, with the session's token. */
export function createClient() {
  const auth = new SetContextLink((previous) => {
    const session = currentSession();
    return session ? { headers: { ...previous.headers, authorization: `Bearer ${session.accessToken}` } } : {};
  });
  return new ApolloClient({
    link: ApolloLink.from([auth, new HttpLink({ uri: '/graphql' })]),
    cache: new InMemoryCache(),
    // An admin console shows what is true now: read from the API, keep the cache for the page only.
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
    clientAwareness: { name: 'analytica-console', version: '1' },
  });
}
