import { print } from 'graphql';
import type { AppConfig } from './config';
import { graphql } from './gql';
import type { SessionFieldsFragment } from './gql/graphql';
import { createStore } from './store';

/** Who is signed in and the tokens that prove it, as login and refreshSession answer them. */
export type Session = SessionFieldsFragment;

export const SESSION_FIELDS = graphql(`
  fragment SessionFields on AuthPayload {
    accessToken
    refreshToken
    expiresAt
    user {
      id
      email
      displayName
    }
  }
`);

const REFRESH = graphql(`
  mutation RefreshSession($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      ...SessionFields
    }
  }
`);

// The tokens live in this module's memory only, never in localStorage or a cookie, so that a script
// injected elsewhere cannot read them; a reload signs out. (An app that must survive reloads keeps
// the refresh token in an httpOnly cookie set by its own backend.)
const sessionStore = createStore<Session | null>(null);
const renewedListeners = new Set<(session: Session) => void>();

export const currentSession = sessionStore.get;
export const setSession = sessionStore.set;
export const useSession = sessionStore.use;

/** Called after every renewal: the live connection hands the new token to the server over its socket. */
export function onRenewed(listener: (session: Session) => void): () => void {
  renewedListeners.add(listener);
  return () => renewedListeners.delete(listener);
}

/** The access token has expired by this machine's clock (or will within the next few seconds). */
export const hasExpired = (session: Session) => new Date(session.expiresAt).getTime() - Date.now() < 5_000;

let renewal: Promise<Session | null> | null = null;

/**
 * Trades the refresh token for a new pair. The app renews when the API says the token has expired
 * (an HTTP 401, a socket closed with 4403), which covers a laptop waking from sleep as well as a long
 * session, so there is no timer to drift. One renewal at a time: a refresh token works once, and a
 * second use of it ends the session (the API takes it for a stolen copy), so every request that meets
 * an expired token waits for the same renewal. Answers the new session, or null when the API refused
 * it (signed out); a network failure throws and keeps the session for the next try.
 */
export function renewSession(config: AppConfig): Promise<Session | null> {
  renewal ??= (async () => {
    const held = currentSession();
    if (!held) return null;
    try {
      // No Authorization header: refreshSession authenticates by its argument.
      const response = await fetch(config.apiUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ operationName: 'RefreshSession', query: print(REFRESH), variables: { refreshToken: held.refreshToken } }),
      });
      const body = (await response.json()) as { data?: { refreshSession?: Session } | null };
      if (currentSession() !== held) return currentSession(); // signed out, or in again, meanwhile
      const renewed = body.data?.refreshSession ?? null;
      setSession(renewed);
      if (renewed) for (const listener of renewedListeners) listener(renewed);
      return renewed;
    } finally {
      renewal = null;
    }
  })();
  return renewal;
}
