// A tiny hash router: routes are `#/path/:param`, so the server's SPA fallback and the offline shell
// never need to know the app's pages. Adding a page is one line in App.tsx's route table.
import { useSyncExternalStore } from 'react';

export interface Match {
  params: Record<string, string>;
}

const current = (): string => window.location.hash.replace(/^#/, '') || '/';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function useLocation(): string {
  return useSyncExternalStore(subscribe, current, () => '/');
}

export function navigate(path: string): void {
  window.location.hash = path;
}

/** Matches `/patients/:id` against `/patients/abc`; null when it does not fit. */
export function matchPath(pattern: string, path: string): Match | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('?')[0]!.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return null;
  }
  return { params };
}
