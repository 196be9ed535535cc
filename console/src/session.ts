import { useSyncExternalStore } from 'react';

/** Who is signed in, as the API's AuthPayload tells it. */
export interface SignedInUser {
  id: string;
  email: string;
  displayName: string;
  role: 'USER' | 'ADMIN';
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** When accessToken stops working (ISO 8601). */
  expiresAt: string;
  user: SignedInUser;
  /** An administrator without two-factor authentication: the token only enrols an authenticator. */
  enrolmentRequired: boolean;
}

/** The fields of AuthPayload a session is made of, for every document that signs in or renews. */
export const AUTH_PAYLOAD_FIELDS = 'accessToken refreshToken expiresAt twoFactorEnrolmentRequired user { id email displayName role }';

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  twoFactorEnrolmentRequired: boolean;
  user: SignedInUser;
}

export const sessionOf = (payload: AuthPayload): Session => ({
  accessToken: payload.accessToken,
  refreshToken: payload.refreshToken,
  expiresAt: payload.expiresAt,
  user: payload.user,
  enrolmentRequired: payload.twoFactorEnrolmentRequired,
});

// The tokens live in this module only: never in localStorage, sessionStorage or a cookie, so that a
// script injected elsewhere cannot read them and a closed tab forgets them. A reload signs out.
let current: Session | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

export const currentSession = () => current;

export function setSession(session: Session | null) {
  current = session;
  clearTimeout(refreshTimer);
  if (session) {
    // Renew a minute before the access token ends (it lives 15 minutes).
    const inMs = Math.max(5_000, new Date(session.expiresAt).getTime() - Date.now() - 60_000);
    refreshTimer = setTimeout(() => void renewSession(), inMs);
  }
  for (const listener of listeners) listener();
}

export function useSession(): Session | null {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}

/**
 * Trades the refresh token for a new pair (refreshSession). Plain fetch rather than Apollo Client,
 * whose requests carry the token this renews. A refused refresh signs out.
 */
export async function renewSession(): Promise<void> {
  const session = current;
  if (!session) return;
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation ConsoleRefresh($t: String!) { refreshSession(refreshToken: $t) { ${AUTH_PAYLOAD_FIELDS} } }`,
        variables: { t: session.refreshToken },
      }),
    });
    const body = (await response.json()) as { data?: { refreshSession?: AuthPayload } };
    if (current !== session) return; // signed out or in again meanwhile
    setSession(body.data?.refreshSession ? sessionOf(body.data.refreshSession) : null);
  } catch {
    // The network is away: try again shortly while the token still works.
    if (current === session && new Date(session.expiresAt).getTime() > Date.now() + 10_000) refreshTimer = setTimeout(() => void renewSession(), 10_000);
  }
}
