export interface TrustedDocuments {
  /** The registered document for the app's hash, null when the app has not registered it. */
  lookup(appId: string, hash: string): Promise<string | null>;
}

/**
 * Apps' registered operations, read from the registry (`GET /api/apps/:appId/documents/:hash`).
 * A registered document never changes (the hash is its SHA-256), so hits are kept for good (up to
 * `cacheSize`); a miss is remembered briefly, so that an app that registers a manifest can use it
 * within seconds while a client retrying an unknown hash does not reach the registry every time.
 * A registry that cannot answer is an error (the request is refused as unavailable), not a miss.
 */
export function trustedDocumentsFromRegistry(options: { baseUrl: string; token?: string; timeoutMs?: number; missTtlMs?: number; cacheSize?: number }): TrustedDocuments {
  const timeoutMs = options.timeoutMs ?? 3000;
  const missTtlMs = options.missTtlMs ?? 5000;
  const cacheSize = options.cacheSize ?? 10_000;
  const hits = new Map<string, string>();
  const misses = new Map<string, number>();
  const inflight = new Map<string, Promise<string | null>>();

  async function fetchDocument(appId: string, hash: string): Promise<string | null> {
    const url = `${options.baseUrl}/api/apps/${encodeURIComponent(appId)}/documents/${encodeURIComponent(hash)}`;
    const response = await fetch(url, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`registry answered ${response.status} for a trusted document`);
    const { document } = (await response.json()) as { document: string };
    return document;
  }

  return {
    async lookup(appId, hash) {
      const key = `${appId}:${hash}`;
      const hit = hits.get(key);
      if (hit !== undefined) return hit;
      const missedAt = misses.get(key);
      if (missedAt !== undefined && Date.now() - missedAt < missTtlMs) return null;
      let pending = inflight.get(key);
      if (!pending) {
        pending = fetchDocument(appId, hash).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      const document = await pending;
      if (document === null) {
        if (misses.size >= cacheSize) misses.clear();
        misses.set(key, Date.now());
      } else {
        misses.delete(key);
        if (hits.size >= cacheSize) hits.delete(hits.keys().next().value!);
        hits.set(key, document);
      }
      return document;
    },
  };
}
