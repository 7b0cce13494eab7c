// A bare WebSocket client speaking the y-websocket protocol by hand: for attacks, refusals and acks.

import { WebSocket, type ClientOptions } from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { wsUrl } from './server.js';

export interface Received {
  type: number;
  bytes: Uint8Array;
  /** For auth messages: the refusal reason. */
  reason?: string;
  /** For extension messages: the JSON body. */
  ext?: Record<string, unknown>;
  /** For sync messages: step and payload. */
  step?: number;
  payload?: Uint8Array;
}

export class RawClient {
  readonly ws: WebSocket;
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly opened: Promise<void>;

  /** `options` go to the ws library (a client that does not answer pings: `{ autoPong: false }`). */
  constructor(base: string, docName: string, token: string, ext = true, options: ClientOptions = {}) {
    this.ws = new WebSocket(`${wsUrl(base)}/${docName}?token=${encodeURIComponent(token)}${ext ? '&ext=1' : ''}`, options);
    this.ws.binaryType = 'nodebuffer';
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data);
      const d = decoding.createDecoder(bytes);
      const type = decoding.readVarUint(d);
      const r: Received = { type, bytes };
      if (type === 2) {
        decoding.readVarUint(d);
        r.reason = decoding.readVarString(d);
      } else if (type === 100) r.ext = JSON.parse(decoding.readVarString(d)) as Record<string, unknown>;
      else if (type === 0) {
        r.step = decoding.readVarUint(d);
        r.payload = decoding.readVarUint8Array(d);
      }
      this.received.push(r);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  sendUpdate(update: Uint8Array, step = 2): void {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, step);
    encoding.writeVarUint8Array(e, update);
    this.ws.send(encoding.toUint8Array(e));
  }

  /** Sends several updates in one socket write, so the server reads them together. */
  sendTogether(updates: Uint8Array[]): void {
    const socket = (this.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    for (const u of updates) this.sendUpdate(u);
    socket.uncork();
  }

  sendAwareness(update: Uint8Array): void {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, update);
    this.ws.send(encoding.toUint8Array(e));
  }

  sendExt(body: object): void {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 100);
    encoding.writeVarString(e, JSON.stringify(body));
    this.ws.send(encoding.toUint8Array(e));
  }

  /** Asks for the server's whole state and applies it to a fresh doc. */
  async fetchDoc(timeoutMs = 5000): Promise<Y.Doc> {
    const before = this.received.length;
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint8Array(e, new Uint8Array([0]));
    this.ws.send(encoding.toUint8Array(e));
    const msg = await this.waitFor((r) => r.type === 0 && r.step === 1, timeoutMs, before);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, msg.payload!);
    return doc;
  }

  /** Update messages the server has acknowledged as saved so far. */
  savedCount(): number {
    return this.exts('saved').reduce((n, e) => n + Number(e.count), 0);
  }

  refusals(): string[] {
    return this.received.filter((r) => r.type === 2).map((r) => r.reason!);
  }

  exts(type: string): Record<string, unknown>[] {
    return this.received.filter((r) => r.ext?.type === type).map((r) => r.ext!);
  }

  async waitFor(pred: (r: Received) => boolean, timeoutMs = 5000, from = 0): Promise<Received> {
    const start = Date.now();
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a message');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const start = Date.now();
    while (!this.closed) {
      if (Date.now() - start > timeoutMs) throw new Error('connection was not closed');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}
