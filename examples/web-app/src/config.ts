/**
 * Where the API is. The app is served on its own origin, so it must be told: the server that hosts it
 * answers /config.json (npm start writes the gateway's URLs there); without one (`npm run dev`), the
 * gateway of `npm start` on this machine.
 */
export interface AppConfig {
  /** The gateway's GraphQL endpoint over HTTP, e.g. http://127.0.0.1:4000/graphql. */
  apiUrl: string;
  /** The same endpoint for the WebSocket (graphql-ws), e.g. ws://127.0.0.1:4000/graphql. */
  wsUrl: string;
}

const LOCAL: AppConfig = { apiUrl: 'http://127.0.0.1:4000/graphql', wsUrl: 'ws://127.0.0.1:4000/graphql' };

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' }).catch(() => undefined);
  if (!response?.ok || !response.headers.get('content-type')?.includes('json')) return LOCAL;
  const given = (await response.json()) as Partial<AppConfig>;
  const apiUrl = given.apiUrl ?? LOCAL.apiUrl;
  return { apiUrl, wsUrl: given.wsUrl ?? apiUrl.replace(/^http/, 'ws') };
}
