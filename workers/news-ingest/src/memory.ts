/**
 * What this process stored per source: the source's name, the story's canonical URL, its content
 * hash and its update time. Only ever a shortcut: an entry is written after DynamoDB has the item
 * from that source with that text (or newer) and its revision is on Kafka, so an item that matches
 * an entry would be `unchanged` in DynamoDB too and is skipped without a round trip. Any other
 * item (never seen, changed text or time, forgotten, a new process) goes to DynamoDB, which stays
 * the truth and decides every revision. Bounded: the entry seen least recently is forgotten first.
 */
export function createStoredItems(limit: number) {
  const stored = new Set<string>();
  const key = (source: string, canonical: string, hash: string, updatedAt: string) => `${source}\n${canonical}\n${hash}\n${updatedAt}`;
  return {
    /** True when this source's story with this text and time is known stored and published. */
    has(source: string, canonical: string, hash: string, updatedAt: string): boolean {
      const k = key(source, canonical, hash, updatedAt);
      if (!stored.has(k)) return false;
      // Seen again: the last to be forgotten.
      stored.delete(k);
      stored.add(k);
      return true;
    },
    remember(source: string, canonical: string, hash: string, updatedAt: string): void {
      const k = key(source, canonical, hash, updatedAt);
      stored.delete(k);
      stored.add(k);
      if (stored.size > limit) stored.delete(stored.values().next().value!);
    },
    get size() {
      return stored.size;
    },
  };
}
export type StoredItems = ReturnType<typeof createStoredItems>;
