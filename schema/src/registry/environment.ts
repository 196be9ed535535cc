import { bool, ConfigError, list, parseEnv, postgresEnv, serviceEnv, tokenEnv, url, z } from '@analytica/config';

export const DEFAULT_SUBGRAPHS = ['user', 'budget', 'market', 'news', 'payment', 'insight'];

export const registryEnvShape = {
  ...serviceEnv(4030),
  ...postgresEnv('registry'),
  /**
   * The bootstrap token: every scope, and the only one that may make and revoke service tokens.
   * Required in production; the dev launchers generate one (dev/src/secrets.ts).
   */
  REGISTRY_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** The subgraphs that may be published; a name outside this list is refused. */
  REGISTRY_SUBGRAPHS: list.default(DEFAULT_SUBGRAPHS),
  /** How far back `check` looks for operations that use what a change breaks. */
  REGISTRY_CHECK_WINDOW_DAYS: z.coerce.number().int().min(1).max(366).default(30),
  /** How long per-minute usage is kept (at least the check window, or checks look at less than they say). */
  REGISTRY_USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3660).default(35),
  /**
   * A supergraph.yaml whose subgraphs are published at every start (stack mode, which follows the
   * working tree): a no-op when nothing changed, a new version when the code did.
   */
  REGISTRY_SEED_CONFIG: z.string().min(1).optional(),
  /**
   * A contracts.yaml (schema/contracts.yaml) whose contracts are created or updated at every start;
   * a file that does not read or names a bad contract stops the registry.
   */
  REGISTRY_CONTRACTS_CONFIG: z.string().min(1).optional(),
  /**
   * Partner routes (/api/partner/*) take the partner's access token, verified like every service
   * does (keys from JWKS_URL, revocations in Redis). Without JWKS_URL they refuse every call: the
   * registry then needs neither the user service nor Redis (CI's throwaway registry).
   */
  JWKS_URL: url(['http', 'https']).optional(),
  JWT_ISSUER: tokenEnv.JWT_ISSUER,
  JWT_AUDIENCE: tokenEnv.JWT_AUDIENCE,
  REDIS_URL: tokenEnv.REDIS_URL,
  REDIS_KEY_PREFIX: tokenEnv.REDIS_KEY_PREFIX,
  /**
   * Partners' webhooks may point at loopback and private addresses, over plain http (development
   * and tests). Off, only https to public addresses (the registry must not reach its own network).
   */
  REGISTRY_WEBHOOK_ALLOW_PRIVATE: bool(false),
  /** How often due webhook deliveries (new contract versions) are sent. */
  REGISTRY_WEBHOOK_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  /** Where partners reach the graph (the gateway's public origin): shown on the partner docs page. */
  PARTNER_API_URL: url(['http', 'https']).default('http://127.0.0.1:4000'),
};
export type RegistryEnv = z.infer<z.ZodObject<typeof registryEnvShape>>;

/** parseEnv plus the rules between variables; throws ConfigError naming each bad one. */
export function parseRegistryEnv(source: Record<string, string | undefined>): RegistryEnv {
  const env = parseEnv(registryEnvShape, source);
  const problems: string[] = [];
  if (env.NODE_ENV === 'production' && !env.REGISTRY_ADMIN_TOKEN)
    problems.push('REGISTRY_ADMIN_TOKEN is missing: required in production (a random secret of 24 characters or more)');
  if (env.REGISTRY_USAGE_RETENTION_DAYS < env.REGISTRY_CHECK_WINDOW_DAYS) {
    problems.push(`REGISTRY_USAGE_RETENTION_DAYS is "${env.REGISTRY_USAGE_RETENTION_DAYS}": must be at least REGISTRY_CHECK_WINDOW_DAYS (${env.REGISTRY_CHECK_WINDOW_DAYS})`);
  }
  const bad = env.REGISTRY_SUBGRAPHS.filter((n) => !/^[a-z][a-z0-9_-]{0,62}$/.test(n));
  if (bad.length) problems.push(`REGISTRY_SUBGRAPHS is "${env.REGISTRY_SUBGRAPHS.join(',')}": names are lower-case letters, digits, "_" or "-" (${bad.join(', ')})`);
  if (problems.length) throw new ConfigError(problems);
  return env;
}
