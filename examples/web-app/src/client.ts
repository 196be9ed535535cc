import { ApolloClient, ApolloLink } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { HttpLink } from '@apollo/client/link/http';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient as createWsClient } from 'graphql-ws';
import { from, mergeMap, throwError } from 'rxjs';
import { createCache } from './cache';
import type { AppConfig } from './config';
import { currentSession, hasExpired, onRenewed, renewSession, setSession } from './session';
import { createStore } from './store';

/** The socket's state, for the "Live" badge. */
export type LiveState = 'idle' | 'connecting' | 'live' | 'reconnecting';
const liveState = createStore<LiveState>('idle');
const setLiveState = liveState.set;
export const useLiveState = liveState.use;

/** The API refused the token (expired, revoked): HTTP 401, or UNAUTHENTICATED in the answer. */
function isUnauthenticated(error: unknown): boolean {
  if (ServerError.is(error)) return error.statusCode === 401;
  return CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
}

/**
 * The socket for subscriptions (graphql-ws). Its token goes in connectionParams, asked for at every
 * (re)connection, and is renewed over the open socket after every renewal, so subscriptions carry on.
 * The gateway closes a socket whose token expired with 4403, which graphql-ws retries: the retry
 * renews first and subscribes again. 4401 (signed out elsewhere, revoked, disabled) is not retried:
 * the app signs out.
 */
function createLiveLink(config: AppConfig) {
  let socket: WebSocket | undefined;
  let tokenRefused = false;
  let connectedBefore = false;
  const ws = createWsClient({
    url: config.wsUrl,
    lazy: true,
    // A laptop that sleeps, a train in a tunnel: keep trying, with graphql-ws's randomised backoff.
    retryAttempts: Number.POSITIVE_INFINITY,
    keepAlive: 15_000,
    connectionParams: async () => {
      const session = currentSession();
      if (session && (tokenRefused || hasExpired(session))) {
        tokenRefused = false;
        await renewSession(config);
      }
      const token = currentSession()?.accessToken;
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      connecting: () => setLiveState(connectedBefore ? 'reconnecting' : 'connecting'),
      connected: (opened) => {
        socket = opened as WebSocket;
        connectedBefore = true;
        setLiveState('live');
      },
      closed: (event) => {
        socket = undefined;
        const code = (event as CloseEvent | undefined)?.code;
        if (code === 4403) tokenRefused = true;
        if (code === 4401) setSession(null);
        setLiveState(connectedBefore ? 'reconnecting' : 'idle');
      },
    },
  });
  onRenewed((session) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'ping', payload: { authorization: `Bearer ${session.accessToken}` } }));
  });
  return { link: new GraphQLWsLink(ws), close: () => ws.dispose() };
}

/**
 * The app's one API client: queries and mutations over HTTP, subscriptions over the WebSocket (the
 * "split" link), each request carrying the signed-in user's token. A request refused because the
 * token expired renews the session once and is sent again, so nobody is signed out mid-task.
 */
export function createApiClient(config: AppConfig) {
  const auth = new SetContextLink((previous) => {
    const token = currentSession()?.accessToken;
    return token ? { headers: { ...previous.headers, authorization: `Bearer ${token}` } } : {};
  });
  const renewOnExpiry = new ErrorLink(({ error, operation, forward }) => {
    if (!isUnauthenticated(error) || !currentSession() || operation.getContext().renewed) return;
    return from(renewSession(config)).pipe(
      mergeMap((session) => {
        if (!session) return throwError(() => error); // refused: signed out, the sign-in page shows
        operation.setContext({ renewed: true });
        return forward(operation);
      }),
    );
  });
  const live = createLiveLink(config);
  const isSubscription = ({ query }: ApolloLink.Operation) => {
    const definition = getMainDefinition(query);
    return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
  };
  const http = ApolloLink.from([renewOnExpiry, auth, new HttpLink({ uri: config.apiUrl })]);
  return new ApolloClient({
    link: ApolloLink.split(isSubscription, live.link, http),
    cache: createCache(),
    clientAwareness: { name: 'analytica-web-app', version: '1' },
  });
}
