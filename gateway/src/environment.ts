import { consoleDirProblem } from './console.js';
import { bool, ConfigError, parseEnv, redisEnv, serviceEnv, subgraphSigningEnv, tokenEnv, trustProxy, url, z } from '@analytica/config';

const limit = (fallback: number) => z.coerce.number().int().min(1).max(100_000_000).default(fallback);

/** The browser origins `npm start` and tests allow when GATEWAY_CORS_ORIGINS is unset (the reference app's dev server). */
export const DEV_CORS_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173'];

/**
 * A comma-separated list of origins (`https://app.example.com`, `http://localhost:5173`): scheme,
 * host and port only, as a browser sends them in Origin. Empty: no browser origin but the gateway's own.
 */
const origins = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .superRefine((entries, ctx) => {
    for (const entry of entries) {
      if (!isOrigin(entry)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry.slice(0, 80)}" is not an origin: give each as scheme://host[:port] (http or https), without a path, a trailing slash or a wildcard, separated by commas`,
        });
      }
    }
  })
  .transform((entries) => [...new Set(entries.map((e) => new URL(e).origin))]);

function isOrigin(entry: string): boolean {
  try {
    if (!/^https?:\/\/[^/?#*@\s]+$/i.test(entry)) return false;
    const parsed = new URL(entry);
    return parsed.pathname === '/' && parsed.hostname !== '';
  } catch {
    return false;
  }
}

export const gatewayEnvShape = {
  ...serviceEnv(4000),
  ...tokenEnv,
  ...subgraphSigningEnv,
  /** Redis carries subscription events (channels `<REDIS_KEY_PREFIX><Entity>.<key>`). */
  ...redisEnv,
  /** How often an open WebSocket's token is checked again for revocation. */
  SUBSCRIPTION_RECHECK_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Unsent bytes above which a WebSocket only keeps the latest result per subscription. */
  SUBSCRIPTION_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** A WebSocket that stays behind this long is closed (1013). */
  SUBSCRIPTION_SLOW_CLIENT_CLOSE_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Which proxies' X-Forwarded-For to believe for the caller's address (express "trust proxy"):
   * false by default (the socket's peer); behind NGINX, its address or `loopback`.
   */
  TRUST_PROXY: trustProxy('false'),
  // Query limits (GraphQL Armor), checked before anything is planned or fetched.
  GRAPHQL_MAX_DEPTH: limit(10),
  // Armor weighs nesting heavily: a budget page of 50 transactions with account and category costs ~6,200.
  GRAPHQL_MAX_COST: limit(20_000),
  GRAPHQL_MAX_ALIASES: limit(15),
  GRAPHQL_MAX_DIRECTIVES: limit(20),
  GRAPHQL_MAX_TOKENS: limit(2000),
  /** Largest request body, in bytes. */
  MAX_BODY_BYTES: limit(1024 * 1024),
  /** Requests per minute one signed-in user may send (every request also counts for its address). */
  RATE_LIMIT_USER_PER_MINUTE: limit(600),
  /** Requests per minute from one address, signed in or not. */
  RATE_LIMIT_IP_PER_MINUTE: limit(1200),
  /** The composed supergraph (npm run compose writes it). */
  SUPERGRAPH_PATH: z.string().min(1).default('schema/supergraph.graphql'),
  /** Reload the supergraph when the file changes; on by default outside production. */
  SUPERGRAPH_WATCH: bool(true),
  /**
   * The schema registry's supergraph endpoint (`<registry>/api/supergraph`). When set, the gateway
   * polls it (ETag) and hot-swaps; SUPERGRAPH_PATH is then only the fallback if the registry is away at start.
   */
  SUPERGRAPH_URL: url(['http', 'https']).optional(),
  SUPERGRAPH_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /** This gateway's name in the registry's list of gateways (with the schema version it serves); default host:PORT (a pod's name in Kubernetes). */
  GATEWAY_INSTANCE_ID: z
    .string()
    .regex(/^[\w.:@-]{1,128}$/, 'must be 1 to 128 letters, digits, ".", ":", "@", "_" or "-"')
    .optional(),
  /** A registry service token: scope `read` for the supergraph, `report` for usage. */
  REGISTRY_TOKEN: z.string().min(1).optional(),
  /** The registry's usage endpoint (`<registry>/api/usage`); unset, no usage is recorded. */
  USAGE_REPORT_URL: url(['http', 'https']).optional(),
  /**
   * The schema registry's base URL, for partner access: contract schemas (polled every
   * SUPERGRAPH_POLL_SECONDS) and apps' trusted documents. Unset, every partner token is refused.
   */
  REGISTRY_URL: url(['http', 'https']).optional(),
  /**
   * Where `POST /oauth/token` (partner apps' client credentials) is forwarded: the user service's
   * token endpoint; by default `/oauth/token` beside JWKS_URL, which the user service also serves.
   */
  OAUTH_TOKEN_URL: url(['http', 'https']).optional(),
  /** How often counted usage is sent (it is aggregated per minute either way). */
  USAGE_FLUSH_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  /**
   * Identical queries in flight at once are executed once, and identical subgraph queries fetched
   * once, only ever between requests with the same Authorization (never across users): see
   * gateway/src/share-queries.ts and datasource.ts. Off, every request executes and fetches alone.
   */
  GATEWAY_DEDUPLICATE: bool(true),
  /**
   * Whether the CDN in front of the gateway checks every request's access token itself (an edge
   * function verifying it against the JWKS) before it serves anything from its cache. Only then may
   * answers that are the same for every caller (public news) say `public`, letting the CDN share one
   * caller's answer with another: every operation needs a token, and a CDN that does not check it
   * would hand the answer to anyone. Off (the default), those answers say `private`: the caller's
   * own browser may keep them for their max-age, no shared cache may. gateway/src/cache-hints.ts.
   */
  CDN_VERIFIES_TOKENS: bool(false),
  /**
   * The queries one request sends a subgraph in the same turn of the event loop go as one query
   * (gateway/src/merge-fetches.ts): fewer round trips, the same answers. Off, one fetch per plan node.
   */
  GATEWAY_MERGE_FETCHES: bool(true),
  /**
   * Gateway processes on the one PORT (node:cluster, packages/service cluster.ts), for a host with
   * cores to spare. Each process plans, shares and subscribes on its own; /metrics sums them.
   * 1 (the default): no cluster, the one process serves.
   */
  GATEWAY_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  /** Per-subgraph time limit for one fetch. */
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // Where each subgraph runs, overriding the supergraph's routing URL (other ports, other hosts).
  SUBGRAPH_USER_URL: url(['http', 'https']).optional(),
  SUBGRAPH_BUDGET_URL: url(['http', 'https']).optional(),
  SUBGRAPH_MARKET_URL: url(['http', 'https']).optional(),
  SUBGRAPH_NEWS_URL: url(['http', 'https']).optional(),
  SUBGRAPH_PAYMENT_URL: url(['http', 'https']).optional(),
  SUBGRAPH_INSIGHT_URL: url(['http', 'https']).optional(),
  /**
   * The browser origins allowed to call the API (CORS, and the Origin check of WebSocket and SSE):
   * comma-separated. Unset: DEV_CORS_ORIGINS outside production, none in production. Requests with
   * no Origin (servers, curl) are not affected; the gateway's own pages (the IDE) are always allowed.
   */
  GATEWAY_CORS_ORIGINS: origins.optional(),
  /** How long a browser may cache a preflight's answer (Access-Control-Max-Age), in seconds. */
  GATEWAY_CORS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  /**
   * The GraphQL IDE (GraphiQL, served by the gateway itself) at GET /graphql for browsers. Unset: on
   * outside production, off in production.
   */
  GATEWAY_IDE: z.enum(['true', 'false', '1', '0']).optional(),
  /**
   * The built admin console (console/dist), served at /console/; unset, no console. npm start and
   * stack mode build it and set this.
   */
  GATEWAY_CONSOLE_DIR: z.string().min(1).optional(),
};
export type GatewayEnv = Omit<z.infer<z.ZodObject<typeof gatewayEnvShape>>, 'GATEWAY_CORS_ORIGINS' | 'GATEWAY_IDE'> & {
  /** Resolved: the configured list, or the default of the environment. */
  GATEWAY_CORS_ORIGINS: string[];
  /** Resolved: whether the IDE is served. */
  GATEWAY_IDE: boolean;
};
/** parseEnv plus the rules between variables; throws ConfigError naming each bad one. */
export function parseGatewayEnv(source: Record<string, string | undefined>): GatewayEnv {
  const parsed = parseEnv(gatewayEnvShape, source);
  const production = parsed.NODE_ENV === 'production';
  const env: GatewayEnv = {
    ...parsed,
    GATEWAY_CORS_ORIGINS: parsed.GATEWAY_CORS_ORIGINS ?? (production ? [] : DEV_CORS_ORIGINS),
    GATEWAY_IDE: parsed.GATEWAY_IDE === undefined ? !production : parsed.GATEWAY_IDE === 'true' || parsed.GATEWAY_IDE === '1',
  };
  const problems: string[] = [];
  // Without a token every poll and every usage batch would be refused (401), and the gateway would
  // serve its fallback file forever while reporting ready.
  if (env.SUPERGRAPH_URL && !env.REGISTRY_TOKEN) problems.push('REGISTRY_TOKEN is missing: SUPERGRAPH_URL is set, and the registry answers only with a token (scope read)');
  if (env.USAGE_REPORT_URL && !env.REGISTRY_TOKEN)
    problems.push('REGISTRY_TOKEN is missing: USAGE_REPORT_URL is set, and the registry takes usage only with a token (scope report)');
  if (env.REGISTRY_URL && !env.REGISTRY_TOKEN)
    problems.push('REGISTRY_TOKEN is missing: REGISTRY_URL is set, and the registry serves contracts and trusted documents only with a token (scope read)');
  const consoleProblem = env.GATEWAY_CONSOLE_DIR ? consoleDirProblem(env.GATEWAY_CONSOLE_DIR) : undefined;
  if (consoleProblem) problems.push(`GATEWAY_CONSOLE_DIR: ${consoleProblem}`);
  if (problems.length) throw new ConfigError(problems);
  return env;
}
