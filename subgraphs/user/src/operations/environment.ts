import { identifier, url, z } from '@analytica/config';

/** One service whose /ready the `serviceHealth` field asks. */
export interface ServiceTarget {
  name: string;
  /** Its base URL: `/ready` is asked at `<url>/ready`. */
  url: string;
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const EXAMPLE = 'e.g. "gateway=http://127.0.0.1:4000,user=http://127.0.0.1:4001"';

/**
 * `name=url` pairs separated by commas: the services the operations fields watch. Each name once,
 * lower-case letters, digits and dashes; each URL http(s) with no query. Empty: none.
 */
export const serviceTargets = z
  .string()
  .default('')
  .transform((value, ctx): ServiceTarget[] => {
    const targets: ServiceTarget[] = [];
    for (const entry of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const at = entry.indexOf('=');
      const name = at > 0 ? entry.slice(0, at).trim() : '';
      const address = at > 0 ? entry.slice(at + 1).trim() : '';
      let parsed: URL | undefined;
      try {
        parsed = new URL(address);
      } catch {
        parsed = undefined;
      }
      if (!SERVICE_NAME.test(name) || !parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.search || parsed.hash) {
        ctx.addIssue({ code: 'custom', message: `must be name=url pairs separated by commas (${EXAMPLE}); "${entry.slice(0, 80)}" is not one` });
        return z.NEVER;
      }
      if (targets.some((t) => t.name === name)) {
        ctx.addIssue({ code: 'custom', message: `names the service "${name}" twice` });
        return z.NEVER;
      }
      targets.push({ name, url: address.replace(/\/+$/, '') });
    }
    return targets;
  });

/**
 * The operations fields' configuration (issue 16: logs and service health; the alerts, Kafka and
 * usage parts add theirs). Spread into the user service's environment.
 */
export const operationsEnvShape = {
  /** Every service whose /ready `serviceHealth` reports: `name=url,...` (stack mode and npm start set it). */
  OPERATIONS_SERVICES: serviceTargets,
  /** How long `serviceHealth` waits for one service's /ready before calling it not ready. */
  OPERATIONS_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(10_000).default(1500),
  /** The central log store `logs` reads (docs/OBSERVABILITY.md); the service's own DATABASE_URL when unset. */
  LOG_STORE_URL: url(['postgres', 'postgresql']).optional(),
  /** The log store's PostgreSQL schema, as the log shipper writes it. */
  LOG_STORE_SCHEMA: identifier.default('logs'),
  /** A log query running longer is cancelled and answered as `available: false`. */
  LOG_STORE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
};
