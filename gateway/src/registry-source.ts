import { readFile } from 'node:fs/promises';
import type { SupergraphManager } from '@apollo/gateway';
import { Supergraph } from '@apollo/federation-internals';
import type { Logger } from '@analytica/logger';

export interface RegistrySourceOptions {
  /** The registry's supergraph endpoint (`<registry>/api/supergraph`). */
  url: string;
  /** A service token with the `read` scope. */
  token?: string;
  pollSeconds: number;
  /**
   * Served when the registry cannot be reached at start (a committed supergraph file), so that the
   * gateway comes up on a known graph and swaps to the registry's as soon as it answers.
   */
  fallbackPath?: string;
  logger: Logger;
  /** How long one poll may take before it is given up (the next poll tries again). */
  timeoutMs?: number;
  /** Called after each swap, with the registry's version number. */
  onSwap?: (version: number | null) => void;
  /**
   * This gateway's name (GATEWAY_INSTANCE_ID): sent with each poll, with the schema version it
   * serves, so that the registry knows which version every gateway runs (the console's health page).
   */
  instanceId?: string;
  /**
   * Throws if a supergraph would not load; checked on the registry's first answer, so that garbage
   * at start means the fallback file rather than a gateway that does not start. Later answers are
   * checked by the gateway's own `update`.
   */
  loads?: (supergraphSdl: string) => void;
}

/**
 * The supergraph from the schema registry, polled with If-None-Match: an unchanged graph costs a
 * 304. A new one goes to the gateway's `update`, which builds the new schema before swapping (requests
 * already running finish on the old one) and throws if it does not load: the gateway then keeps
 * serving the last good graph, and that registry answer is not tried again until it changes.
 * A registry that is down or answers garbage never stops the gateway; it is polled again.
 */
export function supergraphFromRegistry(options: RegistrySourceOptions): SupergraphManager {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const loads = options.loads ?? ((sdl: string) => void Supergraph.build(sdl));
  let etag: string | undefined;
  let refused: string | undefined;
  let lastProblem: string | undefined;
  // The registry version this gateway serves now (null: the fallback file, or not known yet).
  let served: number | null = null;

  type Answer = { kind: 'unchanged' } | { kind: 'sdl'; sdl: string; etag: string; version: number | null };
  async function poll(): Promise<Answer> {
    const response = await fetch(options.url, {
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(etag ? { 'if-none-match': etag } : {}),
        // Read by the registry's gateway log (schema/src/registry/gateways.ts).
        ...(options.instanceId ? { 'x-gateway-instance': options.instanceId, 'x-gateway-schema-version': served === null ? '' : String(served) } : {}),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 304) return { kind: 'unchanged' };
    const text = await response.text();
    if (!response.ok) throw new Error(`registry answered ${response.status}: ${text.slice(0, 200)}`);
    const version = Number(response.headers.get('x-schema-version'));
    // Without an ETag (a proxy that drops it), the text itself tells whether anything changed.
    return {
      kind: 'sdl',
      sdl: text,
      etag: response.headers.get('etag') ?? `"len-${text.length}-${text.slice(-64)}"`,
      version: Number.isFinite(version) && version > 0 ? version : null,
    };
  }

  // One log line per change of state, not one per poll, while the registry is away.
  const problem = (message: string, extra: Record<string, unknown>) => {
    if (lastProblem === message) return;
    lastProblem = message;
    logger.warn({ ...extra, url: options.url }, message);
  };

  return {
    async initialize({ update }) {
      let initial: string;
      try {
        const first = await poll();
        if (first.kind !== 'sdl') throw new Error('registry answered 304 to a first request');
        loads(first.sdl);
        initial = first.sdl;
        etag = first.etag;
        served = first.version;
        logger.info({ url: options.url, version: first.version }, 'supergraph loaded from the registry');
      } catch (error) {
        if (!options.fallbackPath)
          throw new Error(`The registry at ${options.url} did not serve a supergraph (${(error as Error).message}); set SUPERGRAPH_PATH to a fallback file or start the registry.`);
        initial = await readFile(options.fallbackPath, 'utf8');
        problem('registry unreachable at start; serving the fallback supergraph file until it answers', { err: error, fallback: options.fallbackPath });
      }

      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const tick = async () => {
        try {
          const answer = await poll();
          if (lastProblem) logger.info({ url: options.url }, 'registry reachable again');
          lastProblem = undefined;
          if (answer.kind === 'unchanged' || answer.etag === refused) return;
          try {
            update(answer.sdl);
            etag = answer.etag;
            served = answer.version;
            refused = undefined;
            logger.info({ version: answer.version }, 'supergraph swapped to the registry version');
            options.onSwap?.(answer.version);
          } catch (error) {
            // Keep the last good graph; do not try this answer again until the registry's changes.
            refused = answer.etag;
            logger.error({ err: error, version: answer.version }, 'registry supergraph does not load; keeping the previous schema');
          }
        } catch (error) {
          problem('registry unreachable; keeping the current supergraph', { err: error });
        } finally {
          if (!stopped) timer = setTimeout(() => void tick(), options.pollSeconds * 1000);
        }
      };
      timer = setTimeout(() => void tick(), options.pollSeconds * 1000);
      return {
        supergraphSdl: initial,
        async cleanup() {
          stopped = true;
          clearTimeout(timer);
        },
      };
    },
  };
}
