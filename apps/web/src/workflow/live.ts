// The live link to the server's notification stream (EventSource), shared by the bell and the
// worklist: the notification list, unread counts, unread critical values, and a tick per queue
// change. EventSource reconnects by itself and the server replays what was missed (Last-Event-ID).
import { useEffect, useSyncExternalStore } from 'react';
import type { Session } from '../session/session.js';
import { fetchNotifications, type Notification, type NotificationList } from './workflow-api.js';

export interface LiveState {
  connected: boolean;
  items: Notification[];
  unread: number;
  critical: Notification[];
  /** Bumped whenever a queue changes: worklists refetch. */
  queueTick: number;
  queueRoles: string[];
}

const EMPTY: LiveState = { connected: false, items: [], unread: 0, critical: [], queueTick: 0, queueRoles: [] };
let state: LiveState = EMPTY;
const listeners = new Set<() => void>();
let source: EventSource | null = null;
let sourceToken: string | null = null;
let users = 0;

function set(next: Partial<LiveState>): void {
  state = { ...state, ...next };
  for (const l of listeners) l();
}

export function applyList(list: NotificationList): void {
  set({ items: list.items, unread: list.unread, critical: list.critical });
}

function open(token: string): void {
  source?.close();
  state = EMPTY;
  sourceToken = token;
  source = new EventSource(`/api/notifications/stream?token=${encodeURIComponent(token)}`);
  source.addEventListener('open', () => {
    set({ connected: true });
    fetchNotifications().then(applyList).catch(() => undefined);
  });
  source.addEventListener('error', () => set({ connected: false }));
  source.addEventListener('notification', (e) => {
    const n = JSON.parse((e as MessageEvent<string>).data) as Notification;
    if (state.items.some((x) => x.id === n.id)) return;
    set({
      items: [n, ...state.items].slice(0, 100),
      unread: state.unread + (n.read ? 0 : 1),
      critical: n.critical && !n.read ? [...state.critical, n] : state.critical,
    });
  });
  source.addEventListener('queue', (e) => {
    const { roles } = JSON.parse((e as MessageEvent<string>).data) as { roles: string[] };
    set({ queueTick: state.queueTick + 1, queueRoles: roles });
  });
}

function close(): void {
  source?.close();
  source = null;
  sourceToken = null;
  state = EMPTY;
}

/** Keeps one stream open while any component of this session uses it. */
export function useLive(session: Session): LiveState {
  useEffect(() => {
    users++;
    if (sourceToken !== session.token) open(session.token);
    return () => {
      users--;
      if (users === 0) close();
    };
  }, [session.token]);
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
    () => EMPTY,
  );
}

export function markReadLocally(id: number): void {
  const was = state.items.find((n) => n.id === id);
  set({
    items: state.items.map((n) => (n.id === id ? { ...n, read: true } : n)),
    unread: was && !was.read ? Math.max(0, state.unread - 1) : state.unread,
    critical: state.critical.filter((n) => n.id !== id),
  });
}
