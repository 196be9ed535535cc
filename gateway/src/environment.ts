import { bool, parseEnv, serviceEnv, tokenEnv, url, z } from '@analytica/config';

export const gatewayEnvShape = {
  ...serviceEnv(4000),
  ...tokenEnv,
  /** The composed supergraph (npm run compose writes it). */
  SUPERGRAPH_PATH: z.string().min(1).default('schema/supergraph.graphql'),
  /** Reload the supergraph when the file changes; on by default outside production. */
  SUPERGRAPH_WATCH: bool(true),
  /** Per-subgraph time limit for one fetch. */
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // Where each subgraph runs, overriding the supergraph's routing URL (other ports, other hosts).
  SUBGRAPH_USER_URL: url(['http', 'https']).optional(),
  SUBGRAPH_BUDGET_URL: url(['http', 'https']).optional(),
  SUBGRAPH_MARKET_URL: url(['http', 'https']).optional(),
  SUBGRAPH_NEWS_URL: url(['http', 'https']).optional(),
  SUBGRAPH_PAYMENT_URL: url(['http', 'https']).optional(),
  SUBGRAPH_INSIGHT_URL: url(['http', 'https']).optional(),
};
export type GatewayEnv = z.infer<z.ZodObject<typeof gatewayEnvShape>>;
export const parseGatewayEnv = (source: Record<string, string | undefined>) => parseEnv(gatewayEnvShape, source);
