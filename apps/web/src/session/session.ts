// The signed-in session, kept on the device (localStorage) so a tablet reopens signed in, even offline.
import { useSyncExternalStore } from 'react';
import type { Role } from '@pamoja/permissions';

export interface User {
  id: string;
  username: string;
  name: string;
  role: Role;
}

export interface Session {
  token: string;
  expiresAt: string;
  user: User;
}

const KEY = 'pamoja:session';
const listeners = new Set<() => void>();
let cached: Session | null | undefined;

function read(): Session | null {
  if (cached !== undefined) return cached;
  try {
    const raw = localStorage.getItem(KEY);
    const s = raw ? (JSON.parse(raw) as Session) : null;
    cached = s && s.token && s.user?.id && Date.parse(s.expiresAt) > Date.now() ? s : null;
  } catch {
    cached = null;
  }
  return cached;
}

export function getSession(): Session | null {
  return read();
}

export function setSession(s: Session | null): void {
  cached = s;
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
  for (const l of listeners) l();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  // Another tab signing in or out changes this one too.
  const onStorage = (e: StorageEvent): void => {
    if (e.key === KEY) {
      cached = undefined;
      l();
    }
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(l);
    window.removeEventListener('storage', onStorage);
  };
}

export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, read, () => null);
}
