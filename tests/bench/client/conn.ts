// One benchmark client: a WebSocket, a Y.Doc and the sync handshake, written against the wire format
// rather than the stock provider so thousands fit in one process and every byte sent is under our control.

import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { STEP1, STEP2, UPDATE, Wire, type Dialect } from './wire.js';

export interface Endpoint {
  dialect: Dialect;
  /** ws://127.0.0.1:port */
  base: string;
  token: string;
  /** Pamoja: /sync/<doc>?token=&ext=1; the peers take the document name in the path or the message. */
  pamoja: boolean;
}

export function urlFor(ep: Endpoint, docName: string): string {
  if (ep.pamoja) return `${ep.base}/sync/${encodeURIComponent(docName)}?token=${ep.token}&ext=1`;
  if (ep.dialect === 'hocuspocus') return `${ep.base}/`;
  return `${ep.base}/${docName}`;
}

const REMOTE = Symbol('remote');

export class BenchConn {
  readonly doc = new Y.Doc();
  readonly wire: Wire;
  ws: WebSocket | null = null;
  saved = 0;
  closedWith: { code: number; reason: string } | null = null;
  private syncedResolve: (() => void) | null = null;
  private barriers: (() => void)[] = [];
  private initialSynced = false;
  /** When false, local edits stay in the doc (an offline tablet) and go out in the next sync. */
  live = true;
  private presenceClock = 0;
  /**
   * When set, other clients' updates go to this instead of into the doc: a fan-out receiver only
   * reads the timestamps in them (see load/fanout.ts), and a writer's own key needs none of them.
   */
  onRemote: ((update: Uint8Array) => void) | null = null;

  constructor(readonly ep: Endpoint, readonly docName: string) {
    this.wire = new Wire(ep.dialect, docName);
    this.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.sendUpdate(u);
    });
  }

  /** Opens the socket and completes sync step 1/2 both ways; resolves once the server's state is in. */
  connect(timeoutMs = 30_000): Promise<void> {
    this.initialSynced = false;
    this.live = true;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sync of ${this.docName} timed out`)), timeoutMs);
      this.syncedResolve = () => {
        clearTimeout(timer);
        resolve();
      };
      const ws = new WebSocket(urlFor(this.ep, this.docName), { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      this.ws = ws;
      ws.on('open', () => {
        for (const m of this.wire.hello(this.ep.token)) ws.send(m);
        ws.send(this.wire.sync(STEP1, Y.encodeStateVector(this.doc)));
        // Like a stock y-websocket provider: its presence (an empty local state) right after step 1.
        ws.send(this.wire.awareness(this.doc.clientID, ++this.presenceClock, {}));
      });
      ws.on('message', (data: Buffer) => this.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.length)));
      ws.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        clearTimeout(timer);
        if (!this.initialSynced) reject(new Error(`closed before sync: ${code} ${reason.toString()}`));
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  private onMessage(data: Uint8Array): void {
    const m = this.wire.read(data);
    if (m.kind === 'saved') {
      this.saved += m.count;
      return;
    }
    if (m.kind !== 'sync') return;
    if (m.step === STEP1) {
      this.send(this.wire.sync(STEP2, Y.encodeStateAsUpdate(this.doc, m.payload)));
      return;
    }
    if (m.step === UPDATE && this.onRemote) {
      this.onRemote(m.payload);
      return;
    }
    Y.applyUpdate(this.doc, m.payload, REMOTE);
    if (m.step === UPDATE) return;
    if (!this.initialSynced) {
      this.initialSynced = true;
      this.syncedResolve?.();
    } else {
      this.barriers.shift()?.();
    }
  }

  /** Sends an update this client made (held back while offline, like the doc's own edits). */
  sendUpdate(update: Uint8Array): void {
    if (this.live) this.send(this.wire.sync(UPDATE, update));
  }

  send(msg: Uint8Array): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(msg);
  }

  /**
   * Resolves once the server has handled everything sent before it: servers answer a connection's
   * messages in order, and Pamoja answers sync step 1 only after what came before is on disk.
   */
  barrier(timeoutMs = 120_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`barrier on ${this.docName} timed out`)), timeoutMs);
      this.barriers.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.send(this.wire.sync(STEP1, Y.encodeStateVector(this.doc)));
    });
  }

  close(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => (ws.terminate(), resolve()), 2000);
      ws.once('close', () => (clearTimeout(t), resolve()));
      ws.close();
    });
  }

  destroy(): void {
    this.ws?.terminate();
    this.ws = null;
    this.doc.destroy();
  }
}
