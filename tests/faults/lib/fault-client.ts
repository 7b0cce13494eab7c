// A y-websocket-protocol client for fault runs: reconnects by itself, can drop, duplicate and reorder
// its traffic, and (without chaos) tracks which of its edits the server has acknowledged as saved.

import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { STEP1, STEP2, UPDATE, Wire } from '../../bench/client/wire.js';

export interface Chaos {
  drop: number;
  dup: number;
  reorder: number;
}

const REMOTE = Symbol('remote');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FaultClient {
  readonly doc = new Y.Doc();
  private readonly wire: Wire;
  private ws: WebSocket | null = null;
  connected = false;
  synced = false;
  private stopped = false;
  chaos: Chaos | null;
  /** Edit tokens in the order made, and those the server has acknowledged as durable. */
  readonly made: string[] = [];
  readonly acked = new Set<string>();
  /** Per message awaiting 'saved': the edit tokens it acknowledges. */
  private savedFifo: string[][] = [];
  /** Per sync step 1 sent: how many edits had been made (a barrier acknowledges them all). */
  private step1Fifo: number[] = [];
  private currentTokens: string[] = [];
  private held: Uint8Array | null = null;
  connects = 0;
  closes: { code: number; reason: string }[] = [];

  constructor(private readonly base: string, readonly docName: string, private readonly token: string, chaos: Chaos | null = null, readonly rand: () => number = Math.random) {
    this.wire = new Wire('y-websocket', docName);
    this.chaos = chaos;
    this.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === REMOTE || !this.connected) return;
      const tokens = this.currentTokens;
      this.currentTokens = [];
      if (!this.chaos) this.savedFifo.push(tokens);
      this.sendUpdate(this.wire.sync(UPDATE, u));
    });
  }

  /** Where each edit's last struct lives: the server has the edit iff its state vector covers it. */
  readonly ids = new Map<string, { client: number; clock: number }>();

  /** One edit, with a token that identifies it for the acknowledgement bookkeeping. */
  edit(token: string, fn: (doc: Y.Doc) => void): void {
    this.made.push(token);
    this.currentTokens = [token];
    this.doc.transact(() => fn(this.doc));
    this.currentTokens = [];
    this.ids.set(token, { client: this.doc.clientID, clock: Y.getState(this.doc.store, this.doc.clientID) - 1 });
  }

  /** While false the client does not reconnect (a test reads the restarted server's own state first). */
  static mayConnect: () => boolean = () => true;
  /** Readers that check the server's own state connect regardless. */
  bypassGate = false;

  connect(): void {
    if (this.stopped) return;
    if (!this.bypassGate && !FaultClient.mayConnect()) {
      setTimeout(() => this.connect(), 20);
      return;
    }
    const ws = new WebSocket(`${this.base.replace('http', 'ws')}/sync/${encodeURIComponent(this.docName)}?token=${this.token}&ext=1`);
    ws.binaryType = 'nodebuffer';
    this.ws = ws;
    ws.on('open', () => {
      this.connected = true;
      this.connects++;
      this.step1Fifo.push(-1);
      ws.send(this.wire.sync(STEP1, Y.encodeStateVector(this.doc)));
    });
    ws.on('message', (d: Buffer) => this.onMessage(new Uint8Array(d.buffer, d.byteOffset, d.length)));
    ws.on('close', (code, reason) => {
      this.closes.push({ code, reason: reason.toString() });
      this.connected = false;
      this.synced = false;
      this.savedFifo = [];
      this.step1Fifo = [];
      this.held = null;
      if (this.ws === ws) this.ws = null;
      if (!this.stopped) setTimeout(() => this.connect(), 30 + Math.floor(this.rand() * 120));
    });
    ws.on('error', () => {
      /* a refused connection while the server restarts: close follows and retries */
    });
  }

  private onMessage(data: Uint8Array): void {
    let m;
    try {
      m = this.wire.read(data);
    } catch {
      return;
    }
    if (m.kind === 'saved') {
      for (let i = 0; i < m.count; i++) for (const t of this.savedFifo.shift() ?? []) this.acked.add(t);
      return;
    }
    if (m.kind !== 'sync') return;
    if (m.step === STEP1) {
      const diff = Y.encodeStateAsUpdate(this.doc, m.payload);
      const serverSv = Y.decodeStateVector(m.payload);
      const ahead = [...Y.decodeStateVector(Y.encodeStateVector(this.doc))].some(([c, n]) => n > (serverSv.get(c) ?? 0));
      if (ahead && !this.chaos) this.savedFifo.push([]);
      this.raw(this.wire.sync(STEP2, diff));
      this.barrier();
      return;
    }
    if (m.step === UPDATE && this.chaos) {
      const r = this.rand();
      if (r < this.chaos.drop) return;
      if (r < this.chaos.drop + this.chaos.dup) Y.applyUpdate(this.doc, m.payload, REMOTE);
    }
    Y.applyUpdate(this.doc, m.payload, REMOTE);
    if (m.step === STEP2) {
      const upto = this.step1Fifo.shift();
      if (upto !== undefined && upto >= 0) for (const t of this.made.slice(0, upto)) this.acked.add(t);
      this.synced = true;
    }
  }

  /** Sync step 1: Pamoja answers it only after everything before it is on disk. */
  barrier(): void {
    this.step1Fifo.push(this.chaos ? -1 : this.made.length);
    this.raw(this.wire.sync(STEP1, Y.encodeStateVector(this.doc)));
  }

  private raw(msg: Uint8Array): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(msg);
  }

  private sendUpdate(msg: Uint8Array): void {
    const c = this.chaos;
    if (!c) return this.raw(msg);
    const r = this.rand();
    if (r < c.drop) return;
    if (r < c.drop + c.dup) this.raw(msg);
    if (this.held) {
      const h = this.held;
      this.held = null;
      this.raw(msg);
      this.raw(h);
      return;
    }
    if (r > 1 - c.reorder) {
      this.held = msg;
      return;
    }
    this.raw(msg);
  }

  /** Cuts the connection as a network drop would; it reconnects by itself. */
  drop(): void {
    this.ws?.terminate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((r) => ws.once('close', r));
      ws.terminate();
      await closed;
    }
    await sleep(0);
  }

  hasPending(): boolean {
    return this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null;
  }
}
