import type { Logger } from '@analytica/logger';
import type { SourceConfig } from './environment.js';
import { FeedError, parseFeed, type ParsedFeed } from './parse.js';

export type PollOutcome = 'ok' | 'not_modified' | 'http_error' | 'timeout' | 'garbage' | 'too_large' | 'network' | 'apply_failed';

export interface PollerOptions {
  source: SourceConfig;
  timeoutMs: number;
  maxBackoffMs: number;
  maxBytes: number;
  logger: Logger;
  /** Applies a parsed feed; a rejection counts as a failed poll (backoff), and the validators are not kept, so the feed is read again. */
  apply(feed: ParsedFeed): Promise<void>;
  observe(outcome: PollOutcome, seconds: number, consecutiveFailures: number): void;
  random?: () => number;
}

/** The wait before the next poll after `failures` failures in a row: the interval doubled per failure, capped, with ±20% jitter. */
export function nextDelay(intervalMs: number, failures: number, maxBackoffMs: number, random: () => number = Math.random): number {
  if (failures === 0) return intervalMs;
  const base = Math.min(maxBackoffMs, intervalMs * 2 ** Math.min(failures, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

class PollFailure extends Error {
  constructor(
    readonly outcome: PollOutcome,
    message: string,
  ) {
    super(message);
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new PollFailure('too_large', `the feed is ${declared} bytes (at most ${maxBytes})`);
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PollFailure('too_large', `the feed is over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Polls one source on its own timer: conditional GET (If-None-Match, If-Modified-Since), a timeout,
 * a size limit, and backoff after a failure. Each source has its own poller, so one that hangs or
 * answers garbage delays only itself.
 */
export function startPoller(options: PollerOptions) {
  const { source, logger } = options;
  let etag: string | undefined;
  let lastModified: string | undefined;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  const abort = new AbortController();

  async function poll(): Promise<void> {
    const started = performance.now();
    let outcome: PollOutcome = 'ok';
    try {
      let response: Response;
      try {
        response = await fetch(source.url, {
          headers: {
            accept: 'application/rss+xml, application/atom+xml, application/json;q=0.9, */*;q=0.1',
            ...(etag ? { 'if-none-match': etag } : {}),
            ...(lastModified ? { 'if-modified-since': lastModified } : {}),
          },
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(options.timeoutMs)]),
          redirect: 'follow',
        });
      } catch (error) {
        throw new PollFailure((error as Error).name === 'TimeoutError' ? 'timeout' : 'network', (error as Error).message);
      }
      if (response.status === 304) {
        await response.body?.cancel();
        outcome = 'not_modified';
      } else if (!response.ok) {
        await response.body?.cancel();
        throw new PollFailure('http_error', `HTTP ${response.status}`);
      } else {
        let text: string;
        try {
          text = await readLimited(response, options.maxBytes);
        } catch (error) {
          if (error instanceof PollFailure) throw error;
          throw new PollFailure((error as Error).name === 'TimeoutError' ? 'timeout' : 'network', (error as Error).message);
        }
        let feed: ParsedFeed;
        try {
          feed = parseFeed(source.format, text);
        } catch (error) {
          if (error instanceof FeedError) throw new PollFailure('garbage', error.message);
          throw error;
        }
        try {
          await options.apply(feed);
        } catch (error) {
          throw new PollFailure('apply_failed', (error as Error).message);
        }
        // Kept only once the feed is applied: a feed that failed half-way is read again in full.
        etag = response.headers.get('etag') ?? undefined;
        lastModified = response.headers.get('last-modified') ?? undefined;
      }
      failures = 0;
    } catch (error) {
      failures++;
      outcome = error instanceof PollFailure ? error.outcome : 'apply_failed';
      logger.warn({ source: source.name, outcome, failures, reason: (error as Error).message }, 'poll failed; backing off');
    }
    options.observe(outcome, (performance.now() - started) / 1000, failures);
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      running = poll().finally(() => {
        running = undefined;
        schedule(nextDelay(source.intervalMs, failures, options.maxBackoffMs, options.random));
      });
    }, delayMs);
  }
  schedule(0);

  return {
    failures: () => failures,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
