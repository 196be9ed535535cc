import { useSyncExternalStore } from 'react';

/** A value outside React that components read and re-render on (the session, the socket's state). */
export function createStore<T>(initial: T) {
  let value = initial;
  const listeners = new Set<() => void>();
  const subscribe = (listener: () => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  return {
    get: () => value,
    set(next: T) {
      value = next;
      for (const listener of listeners) listener();
    },
    /** The value in a component, which re-renders when it changes. */
    use: () => useSyncExternalStore(subscribe, () => value),
  };
}
