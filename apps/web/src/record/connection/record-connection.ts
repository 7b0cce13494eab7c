// One open patient record: the Y.Doc, its copy on this device (IndexedDB, one store per user), the
// live connection to the server, and what the server tells us (saved, refused, locks, presence).
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { encodeAwarenessUpdate } from 'y-protocols/awareness';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import { docNameFor } from '@pamoja/schema';
import { ROLE_LABELS } from '@pamoja/permissions';
import { getSession, setSession, type Session } from '../../session/session.js';
import { api, deviceName } from '../../session/api.js';
import { Store } from './store.js';
import { SaveTracker } from './save-tracker.js';
import { EditHistory } from './edit-history.js';
import { MSG_EXT, encodeExt, parseExt, type ExtMessage, type FieldLock } from './ext-protocol.js';
import type { Activity, Peer, PresenceState, PresenceUser } from './presence-types.js';

export interface LinkState {
  /** The copy on this device has been read (the record can be shown). */
  loaded: boolean;
  status: 'offline' | 'connecting' | 'connected';
  /** Caught up with the server since the last connect. */
  synced: boolean;
  /** Why the server ended the connection for good, if it did. */
  closed: string | null;
}

export interface RefusalNote {
  id: number;
  path: string;
  reason: string;
  /** What the person entered, shown back to them (the server has undone it everywhere). */
  tried: unknown;
  at: number;
}

/** IndexedDB store of one user's copy of one record: never opened for anyone else. */
export const storeName = (userId: string, patientId: string): string => `pamoja:${userId}:${docNameFor(patientId)}`;

let nextRefusalId = 1;

export class RecordConnection {
  readonly doc = new Y.Doc();
  readonly idb: IndexeddbPersistence;
  readonly provider: WebsocketProvider;
  readonly me: PresenceUser;
  readonly link = new Store<LinkState>({ loaded: false, status: 'offline', synced: false, closed: null });
  readonly save: SaveTracker;
  readonly history: EditHistory;
  readonly locks = new Store<FieldLock[]>([]);
  readonly lockRefusals = new Store<ReadonlyMap<string, string>>(new Map());
  readonly refusals = new Store<RefusalNote[]>([]);
  readonly peers = new Store<Peer[]>([]);
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly cleanups: (() => void)[] = [];

  constructor(readonly session: Session, readonly patientId: string) {
    const u = session.user;
    this.me = { id: u.id, username: u.username, name: u.name, role: u.role, roleLabel: ROLE_LABELS[u.role], color: '#0b6e4f' };
    this.save = new SaveTracker(`pamoja:${u.id}:unsaved:${patientId}`);
    // What the server refused is shown until the person dismisses it, across reloads: an offline
    // shift's refused entries may be the only place what they typed is still written down.
    const refusedKey = `pamoja:${u.id}:refused:${patientId}`;
    try {
      const kept = JSON.parse(localStorage.getItem(refusedKey) ?? '[]') as RefusalNote[];
      if (Array.isArray(kept)) this.refusals.set(kept.map((r) => ({ ...r, id: nextRefusalId++ })));
    } catch {
      localStorage.removeItem(refusedKey);
    }
    this.cleanups.push(this.refusals.subscribe(() => {
      const notes = this.refusals.get();
      if (notes.length) localStorage.setItem(refusedKey, JSON.stringify(notes));
      else localStorage.removeItem(refusedKey);
    }));
    this.history = new EditHistory(this.doc, this.me);
    this.idb = new IndexeddbPersistence(storeName(u.id, patientId), this.doc);
    const wsBase = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;
    this.provider = new WebsocketProvider(wsBase, docNameFor(patientId), this.doc, {
      params: { token: session.token, ext: '1', device: deviceName() },
      connect: false,
      // Tabs share nothing behind the server's back: every change goes through the gate.
      disableBc: true,
    });
    this.provider.awareness.setLocalState({ activity: 'viewing', user: { name: u.name, color: this.me.color } });
    this.wireProtocol();
    this.wireEvents();
    void this.idb.whenSynced.then(() => {
      this.link.update((l) => ({ ...l, loaded: true }));
      if (navigator.onLine) this.provider.connect();
    });
  }

  private wireProtocol(): void {
    const p = this.provider;
    p.messageHandlers[MSG_EXT] = (_enc, decoder) => {
      const msg = parseExt(decoding.readVarString(decoder));
      if (msg) this.onExt(msg);
    };
    // The protocol's refusal carries a reason; y-websocket's default handler drops it. (Details of
    // refused record changes come again, per field, as extension messages.)
    p.messageHandlers[2] = (_enc, decoder) => {
      if (decoding.readVarUint(decoder) === 0) console.warn(`Pamoja server refused: ${decoding.readVarString(decoder)}`);
    };
    // Stock y-websocket relays every presence change it hears, others' included; the server fans
    // presence out itself and refuses states that are not the sender's, so send only our own.
    p.awareness.off('update', p._awarenessUpdateHandler);
    const ownPresence = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
      const id = this.doc.clientID;
      if (![...added, ...updated, ...removed].includes(id)) return;
      const ws = p.ws;
      if (!p.wsconnected || !ws || ws.readyState !== ws.OPEN) return;
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, 1);
      encoding.writeVarUint8Array(e, encodeAwarenessUpdate(p.awareness, [id]));
      ws.send(encoding.toUint8Array(e));
    };
    p.awareness.on('update', ownPresence);
    this.cleanups.push(() => p.awareness.off('update', ownPresence));
    // Peek at the server's sync step 1 (its state vector) to know whether our copy holds unsaved work.
    const sync = p.messageHandlers[0]!;
    p.messageHandlers[0] = (encoder, decoder, provider, emitSynced, type) => {
      const peek = decoding.clone(decoder);
      if (decoding.readVarUint(peek) === 0) this.save.handshake(this.doc, decoding.readVarUint8Array(peek));
      sync(encoder, decoder, provider, emitSynced, type);
    };
  }

  private wireEvents(): void {
    const p = this.provider;
    const onUpdate = (_u: Uint8Array, origin: unknown): void => {
      if (origin === p || origin === this.idb) return;
      this.save.localChange(p.wsconnected);
    };
    this.doc.on('update', onUpdate);
    this.doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.local || p.synced) this.history.observe(tr, tr.local);
    });
    p.on('status', ({ status }) => {
      this.link.update((l) => ({ ...l, status: status === 'disconnected' ? 'offline' : status, synced: false }));
      if (status !== 'connected') this.save.disconnected();
    });
    p.on('sync', (synced: boolean) => this.link.update((l) => ({ ...l, synced })));
    // A token revoked or expired while this device was away is refused before any WebSocket exists
    // (HTTP 401), which the browser reports only as a failed connection: ask the API whether the
    // session still holds. If not, the person is sent to sign in; what they typed stays on this
    // device and is sent once they have.
    let lastCheck = 0;
    p.on('connection-close', () => {
      if (this.link.get().status === 'connected' || !navigator.onLine || Date.now() - lastCheck < 10_000) return;
      lastCheck = Date.now();
      void api('GET', '/api/auth/me').catch(() => {});
    });
    p.on('closed', ({ code, reason }) => {
      this.link.update((l) => ({ ...l, closed: reason || `closed (${code})` }));
      // Signed out elsewhere or the token expired: this device must sign in again.
      if (code === 4401) setSession(null);
    });
    const onAwareness = (): void => this.refreshPeers();
    p.awareness.on('change', onAwareness);
    // The browser knows first when the network goes; a half-open socket can take minutes to notice.
    const offline = (): void => p.disconnect();
    const online = (): void => {
      if (this.link.get().loaded) p.connect();
    };
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    this.cleanups.push(() => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
      p.awareness.off('change', onAwareness);
      this.doc.off('update', onUpdate);
    });
  }

  private refreshPeers(): void {
    const byUser = new Map<string, Peer>();
    const rank = (a?: Activity): number => ['idle', 'viewing', 'editing', 'typing'].indexOf(a ?? 'viewing');
    this.provider.awareness.getStates().forEach((raw, clientId) => {
      const s = raw as PresenceState;
      if (clientId === this.doc.clientID || !s.user?.id || !s.user.roleLabel) return;
      this.history.learn(clientId, s.user);
      const peer: Peer = { ...s, clientId, user: s.user };
      const seen = byUser.get(s.user.id);
      if (!seen || rank(peer.activity) > rank(seen.activity)) byUser.set(s.user.id, peer);
    });
    this.peers.set([...byUser.values()].sort((a, b) => a.user.name.localeCompare(b.user.name)));
  }

  private onExt(msg: ExtMessage): void {
    switch (msg.type) {
      case 'saved':
        this.save.acked(msg.at, msg.count);
        break;
      case 'refused': {
        const now = Date.now();
        const notes = msg.refusals.map((r) => ({ id: nextRefusalId++, path: r.path, reason: r.reason, tried: r.tried, at: now }));
        this.refusals.update((old) => [...notes, ...old].slice(0, 100));
        for (const r of msg.refusals) this.history.forget(r.path);
        break;
      }
      case 'locks':
        this.locks.set(msg.locks);
        break;
      case 'lock-result':
        this.lockRefusals.update((m) => {
          const next = new Map(m);
          if (msg.ok) next.delete(msg.path);
          else next.set(msg.path, msg.reason ?? 'This field is locked');
          return next;
        });
        break;
      case 'error':
        console.warn('Pamoja server:', msg.message);
        break;
      case 'role-changed': {
        // An administrator changed my role: the forms follow at once (the server already judges by it).
        const s = getSession();
        if (s && s.user.id === this.me.id && s.user.role !== msg.role) setSession({ ...s, user: { ...s.user, role: msg.role } });
        break;
      }
    }
  }

  dismissRefusal(id: number): void {
    this.refusals.update((old) => old.filter((r) => r.id !== id));
  }

  /** Who else holds the lock on this field or its whole unit. */
  lockedByOther(fieldPath: string, unitPath: string): FieldLock | null {
    return this.locks.get().find((l) => (l.path === fieldPath || l.path === unitPath) && l.userId !== this.me.id) ?? null;
  }

  lock(path: string): void {
    this.sendExt({ type: 'lock', path });
  }

  unlock(path: string): void {
    this.lockRefusals.update((m) => {
      if (!m.has(path)) return m;
      const next = new Map(m);
      next.delete(path);
      return next;
    });
    this.sendExt({ type: 'unlock', path });
  }

  private sendExt(body: { type: 'lock' | 'unlock'; path: string }): void {
    const ws = this.provider.ws;
    if (this.provider.wsconnected && ws && ws.readyState === ws.OPEN) ws.send(encodeExt(body));
  }

  /** Where I am and what I am doing, for everyone else's presence list. */
  setPresence(patch: Partial<PresenceState>): void {
    const a = this.provider.awareness;
    a.setLocalState({ ...(a.getLocalState() ?? {}), ...patch });
  }

  focus(section: string, field: string | undefined, visitId: string): void {
    this.setPresence({ section, field, visitId, activity: 'editing' });
  }

  blur(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.setPresence({ field: undefined, activity: 'viewing' });
  }

  /** Marks me as typing; falls back to "editing" after a short pause. */
  typing(section: string, field: string | undefined, visitId: string): void {
    const s = this.provider.awareness.getLocalState() as PresenceState | null;
    if (s?.activity !== 'typing' || s.section !== section || s.field !== field) {
      this.setPresence({ section, field, visitId, activity: 'typing' });
    }
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.setPresence({ activity: 'editing' }), 2500);
  }

  destroy(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    for (const c of this.cleanups) c();
    this.save.destroy();
    this.provider.awareness.setLocalState(null);
    this.provider.destroy();
    void this.idb.destroy();
    this.doc.destroy();
  }
}
