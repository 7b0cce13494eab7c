// "All changes saved": true only when the server has acknowledged (after its disk commit) every
// change made on this device. The unsaved flag is kept in localStorage so a reload while offline
// still says the truth.
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
    if (k?.startsWith(`pamoja:${userId}:unsaved:`) && localStorage.getItem(k) === '1') n++;
  }
  return n;
}

export class SaveTracker {
  readonly state: Store<SaveState>;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly key: string) {
    this.state = new Store<SaveState>({ unsaved: localStorage.getItem(key) === '1', pending: 0, lastSavedAt: null });
  }

  private put(patch: Partial<SaveState>): void {
    const next = { ...this.state.get(), ...patch };
    if (next.unsaved) localStorage.setItem(this.key, '1');
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
