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
 * revalidate), with one read per key at a time. `forget` and `renew` win over reads already under
 * way: what they bring back is not kept, so a change the caller knows of is never undone by an
 * older read.
 */
export function createRefreshingCache<V>(options: RefreshingCacheOptions) {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const values = new Map<string, { at: number; value: V }>();
  const reading = new Map<string, Promise<V>>();
  /** Bumped per key by forget and renew, for every key by forgetAll: a read keeps its answer only if neither moved since it began. */
  const versions = new Map<string, number>();
  let generation = 0;
  const versionOf = (key: string) => `${generation}:${versions.get(key) ?? 0}`;

  function keep(key: string, value: V) {
    if (values.size >= maxEntries) values.clear();
    values.set(key, { at: now(), value });
  }

  function invalidate(key: string) {
    versions.set(key, (versions.get(key) ?? 0) + 1);
    reading.delete(key);
  }

  function read(key: string, load: () => Promise<V>): Promise<V> {
    const under = reading.get(key);
    if (under) return under;
    const started = versionOf(key);
    const promise = load()
      .then((value) => {
        if (versionOf(key) === started) keep(key, value);
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
    /** Drops the keys: their next callers wait for the store. */
    forget(keys: readonly string[]): void {
      for (const key of keys) {
        invalidate(key);
        values.delete(key);
      }
    },
    forgetAll(): void {
      generation++;
      versions.clear();
      values.clear();
      reading.clear();
    },
    /**
     * Reads the key again now, for a change the caller knows of, and keeps the answer: resolves
     * once callers get the new value. Meanwhile they get the value held so far, without waiting
     * for the store; reads that began before are not kept. If the read fails, the held value is
     * marked stale (still served, read again by its next caller) and the error is thrown.
     */
    async renew(key: string, load: () => Promise<V>): Promise<void> {
      invalidate(key);
      const started = versionOf(key);
      try {
        await read(key, load); // callers that would read the key meanwhile share this read
      } catch (error) {
        const held = values.get(key);
        if (held && versionOf(key) === started) held.at = Math.min(held.at, now() - options.freshMs);
        throw error;
      }
    },
  };
}
