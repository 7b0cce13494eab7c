// "All changes saved": true only when the server has acknowledged (after its disk commit) every
// change made on this device. The unsaved flag is kept in localStorage so a reload while offline
// still says the truth: for each record, the tabs (sessionStorage ids, which survive a reload of
// their tab) holding changes the server has not acknowledged. One tab's save then does not clear
// another tab's unsent work; a tab that opened the record with others' unsent work in its copy clears
// their marks too once the server has everything it has.
import * as Y from 'yjs';
import { Store } from './store.js';

export interface SaveState {
  unsaved: boolean;
  /** Updates sent on this connection whose `saved` ack has not come back yet. */
  pending: number;
  lastSavedAt: string | null;
}

/** How many records hold changes by this person that the server has not acknowledged, on this device. */
export function unsavedRecords(userId: string): number {
  let n = 0;
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (k?.startsWith(`pamoja:${userId}:unsaved:`) && tabsIn(k).length > 0) n++;
  }
  return n;
}

/** This tab, across its reloads. */
function tabId(): string {
  let id = sessionStorage.getItem('pamoja:tab');
  if (!id) {
    id = Math.random().toString(36).slice(2, 10);
    sessionStorage.setItem('pamoja:tab', id);
  }
  return id;
}

/** The tabs marked as holding unsaved changes under `key` (`'1'`: a mark from before tabs were told apart). */
function tabsIn(key: string): string[] {
  const v = localStorage.getItem(key);
  if (v === null) return [];
  if (v === '1') return ['?'];
  try {
    const list = JSON.parse(v) as unknown;
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export class SaveTracker {
  readonly state: Store<SaveState>;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;

  private readonly tab = tabId();
  /** Tabs marked when this copy was read: their changes were in it. */
  private readonly readWith: string[];

  constructor(private readonly key: string) {
    this.readWith = tabsIn(key);
    this.state = new Store<SaveState>({ unsaved: this.readWith.length > 0, pending: 0, lastSavedAt: null });
  }

  private put(patch: Partial<SaveState>): void {
    const next = { ...this.state.get(), ...patch };
    let tabs = tabsIn(this.key);
    if (next.unsaved) {
      if (!tabs.includes(this.tab)) tabs.push(this.tab);
    } else tabs = tabs.filter((t) => t !== this.tab && !this.readWith.includes(t));
    if (tabs.length) localStorage.setItem(this.key, JSON.stringify(tabs));
    else localStorage.removeItem(this.key);
    this.state.set(next);
  }

  /** A change made here; `sent` when it went straight to the server. */
  localChange(sent: boolean): void {
    this.put({ unsaved: true, pending: this.state.get().pending + (sent ? 1 : 0) });
  }

  /**
   * The server's state vector arrived (its sync step 1); our answer carries whatever it lacks. If it
   * lacks nothing, what we thought unsaved is already on its disk (or was only deletions, which the
   * answer also carries and which are acknowledged within a moment).
   */
  handshake(doc: Y.Doc, serverSv: Uint8Array): void {
    const theirs = Y.decodeStateVector(serverSv);
    const ours = Y.decodeStateVector(Y.encodeStateVector(doc));
    let lacks = false;
    for (const [client, clock] of ours) if (clock > (theirs.get(client) ?? 0)) lacks = true;
    this.put({ pending: lacks ? 1 : 0 });
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (!lacks && this.state.get().unsaved) {
      this.settleTimer = setTimeout(() => {
        if (this.state.get().pending === 0) this.put({ unsaved: false, lastSavedAt: new Date().toISOString() });
      }, 1500);
    }
  }

  /** The server committed `count` more of our update messages (or refused them for good). */
  acked(at: string, count = 1): void {
    const pending = Math.max(0, this.state.get().pending - count);
    this.put(pending === 0 ? { pending, unsaved: false, lastSavedAt: at } : { pending });
  }

  disconnected(): void {
    this.put({ pending: 0 });
  }

  destroy(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
  }
}
