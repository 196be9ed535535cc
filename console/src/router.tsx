import { useSyncExternalStore, type MouseEvent, type ReactNode } from 'react';

// A router of a few lines: the console's pages are /console/<page>, served by the gateway's fallback
// to index.html, and moved between with history.pushState.
const BASE = '/console';
const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

const pathNow = () => (window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '/').replace(/\/+$/, '') || '/';

/** The page's path under /console ("/users", "/logs"), and its query parameters. */
export function useRoute(): { path: string; params: URLSearchParams } {
  const href = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => window.location.pathname + window.location.search,
  );
  return { path: pathNow(), params: new URLSearchParams(href.includes('?') ? href.slice(href.indexOf('?')) : '') };
}

export function navigate(to: string) {
  window.history.pushState(null, '', BASE + to);
  listeners.forEach((l) => l());
}

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (event: MouseEvent) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={BASE + to} onClick={onClick} className={className}>
      {children}
    </a>
  );
}
