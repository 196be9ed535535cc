// The news pipeline's launch settings, shared by both launchers (npm start and npm run stack).
/** How often the launchers' news-ingest polls each simulated source: conditional GETs of a local process, cheap. */
export const NEWS_POLL_INTERVAL_MS = 2000;

/**
 * news-ingest's NEWS_SOURCES: every source the simulator lists at `GET /sources`, polled every
 * NEWS_POLL_INTERVAL_MS (the slow and the failing one included: their timeouts and backoff show in
 * news-ingest's /metrics). A NEWS_SOURCES the caller gives wins.
 */
export async function newsIngestEnv(simulatorUrl: string, given: Record<string, string | undefined> = {}): Promise<Record<string, string>> {
  if (given.NEWS_SOURCES) return { NEWS_SOURCES: given.NEWS_SOURCES };
  const listed = (await (await fetch(`${simulatorUrl}/sources`, { signal: AbortSignal.timeout(10_000) })).json()) as {
    sources: { name: string; format: string; path: string; title: string }[];
  };
  const sources = listed.sources.map((s) => ({ name: s.name, title: s.title, format: s.format, url: `${simulatorUrl}${s.path}`, intervalMs: NEWS_POLL_INTERVAL_MS }));
  return { NEWS_SOURCES: JSON.stringify(sources) };
}
