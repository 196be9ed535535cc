export interface RefreshingCacheOptions {
  /** Younger than this, a value is served as it is. */
  freshMs: number;
  /** Between freshMs and this, it is served and read again in the background; older, the caller waits for the read. */
  maxAgeMs: number;
  /** Most keys held; past it the cache starts over. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * A read-through cache that serves a stale value while it reads the key again (stale while
 * revalidate), with one read per key at a time. `forget` wins over reads already under way: what
 * they bring back is not kept, so a change the caller knows of is never undone by an older read.
 */
export function createRefreshingCache<V>(options: RefreshingCacheOptions) {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const values = new Map<string, { at: number; value: V }>();
  const reading = new Map<string, Promise<V>>();
  let generation = 0;

  function read(key: string, load: () => Promise<V>): Promise<V> {
    const under = reading.get(key);
    if (under) return under;
    const startedIn = generation;
    const promise = load()
      .then((value) => {
        if (generation === startedIn) {
          if (values.size >= maxEntries) values.clear();
          values.set(key, { at: now(), value });
        }
        return value;
      })
      .finally(() => {
        if (reading.get(key) === promise) reading.delete(key);
      });
    reading.set(key, promise);
    return promise;
  }

  return {
    /**
     * The key's value: from memory when there is one young enough, else from `load`. A background
     * read that fails is told to `onRefreshFailed`; the cached value stays until maxAgeMs.
     */
    get(key: string, load: () => Promise<V>, onRefreshFailed?: (error: unknown) => void): Promise<V> {
      const cached = values.get(key);
      const age = cached ? now() - cached.at : Infinity;
      if (cached && age < options.freshMs) return Promise.resolve(cached.value);
      if (cached && age < options.maxAgeMs) {
        read(key, load).catch((error: unknown) => onRefreshFailed?.(error));
        return Promise.resolve(cached.value);
      }
      return read(key, load);
    },
    forget(keys: readonly string[]): void {
      generation++;
      for (const key of keys) {
        values.delete(key);
        reading.delete(key);
      }
    },
    forgetAll(): void {
      generation++;
      values.clear();
      reading.clear();
    },
  };
}
