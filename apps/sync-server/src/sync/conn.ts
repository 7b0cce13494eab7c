// One client connection as the rooms see it: who it is, what it may receive, and how to reach it.

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Actor } from '../gate/actor.js';
import type { Broadcast } from './protocol.js';

/** What a `ws` WebSocket keeps of its connection: the TCP socket, and its sender's queue. */
interface WsInternals {
  _socket?: Socket;
  _sender?: { _queue: unknown[] };
}

let nextConnId = 1;

/**
 * Presence a connection may send, in bytes: a stock client's update on a cursor move is a few hundred
 * bytes, a few a second. Every presence update goes to everyone on the record, so a flood of large
 * ones (1,500 of 35 KB) held the server for one to two seconds; this budget ends it after 256 KB.
 */
export const PRESENCE_BYTES_PER_SEC = 32 * 1024;
export const PRESENCE_BYTES_BURST = 256 * 1024;

/** Token bucket: `rate` a second, up to `burst`. */
export class Bucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** False when `n` is over what is left. */
  take(n: number, now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

export class Conn {
  readonly id = nextConnId++;
  readonly since = Date.now();
  /** Yjs client ids whose presence this connection controls. */
  readonly awarenessIds = new Set<number>();
  /** Has sent presence that was relayed (its first such message is not charged; see Room.onAwareness). */
  announced = false;
  /** Sent something or answered a ping since the hub's last heartbeat (see Hub.beat). */
  heard = true;
  /** Heartbeats in a row it was silent through. */
  silentBeats = 0;
  private readonly messages: Bucket;
  private readonly presence = new Bucket(PRESENCE_BYTES_PER_SEC, PRESENCE_BYTES_BURST);

  constructor(
    readonly ws: WebSocket,
    public actor: Actor,
    readonly tokenHash: string,
    /** Asked for Pamoja's extension messages (saved acks, refusal details, locks, notifications). */
    readonly ext: boolean,
    ratePerSec: number,
    burst: number,
  ) {
    this.messages = new Bucket(ratePerSec, burst);
  }

  send(msg: Uint8Array): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(msg);
  }

  /**
   * Sends a message framed once for everyone who gets it (see Broadcast): its bytes go to the socket
   * as they are. Only while nothing waits in the WebSocket library's own queue (it queues messages
   * only while compressing, which this server does not do), so messages still leave in order.
   */
  sendBroadcast(b: Broadcast): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const ws = this.ws as unknown as WsInternals;
    if (ws._socket && ws._sender && ws._sender._queue.length === 0) ws._socket.write(b.wire);
    else this.ws.send(b.message);
  }

  /** Holds writes so several messages leave in one syscall. */
  cork(): void {
    (this.ws as unknown as WsInternals)._socket?.cork();
  }

  uncork(): void {
    (this.ws as unknown as WsInternals)._socket?.uncork();
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(code, closeReason(reason));
    }
  }

  /** False when this message is over the connection's budget. */
  takeToken(now = Date.now()): boolean {
    return this.messages.take(1, now);
  }

  /** False when a presence message of `bytes` is over the connection's presence budget. */
  takePresence(bytes: number, now = Date.now()): boolean {
    return this.presence.take(bytes, now);
  }
}

/**
 * The WebSocket protocol allows 123 bytes of close reason, and ws throws on more. Cut by characters:
 * cutting the bytes could split a character, and its replacement takes three bytes again.
 */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let end = Math.min(reason.length, 123);
  while (end > 0 && Buffer.byteLength(reason.slice(0, end)) > 123) end--;
  // Not half of a surrogate pair at the end.
  if (end > 0 && /[\ud800-\udbff]/.test(reason[end - 1]!)) end--;
  return reason.slice(0, end);
}
