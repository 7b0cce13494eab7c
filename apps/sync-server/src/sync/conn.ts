// One client connection as the rooms see it: who it is, what it may receive, and how to reach it.

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Actor } from '../gate/actor.js';
import { CLOSE, type Broadcast } from './protocol.js';

/**
 * What a `ws` WebSocket keeps of its connection: the TCP socket, its sender's queue, and its
 * receiver's frame limit (the hub's WebSocketServer `maxPayload`).
 */
interface WsInternals {
  _socket?: Socket;
  _sender?: { _queue: unknown[] };
  _receiver?: { _maxPayload: number };
}

/** Used only should ws no longer say what its frame limit is: twice MAX_FRAME_BYTES's default. */
const FALLBACK_MAX_UNSENT_BYTES = 16 * 1024 * 1024;

/**
 * A connection closed for being too far behind has this long to take in what waits for it and the
 * close frame behind it; then its socket is cut, and what was queued for it is freed. One that does
 * not read would never complete the closing handshake, and ws would hold everything for 30 s.
 */
export const BEHIND_GRACE_MS = 2000;

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
  /** When the room last asked it to send again what the room lacks, and the timer for the next ask (see Room.askToResend). */
  lastResendAsk = 0;
  resendTimer: NodeJS.Timeout | null = null;
  private readonly messages: Bucket;
  private readonly presence = new Bucket(PRESENCE_BYTES_PER_SEC, PRESENCE_BYTES_BURST);
  /**
   * Bytes that may wait unsent for this connection beyond the largest message waiting for it (see
   * admit): the largest frame the server reads at all, twice MAX_FRAME_BYTES (16 MiB by default).
   */
  readonly maxUnsentBytes: number;
  /** Largest message queued for it since nothing was waiting. */
  private largestWaiting = 0;
  /** While corked (see cork): what was waiting before, the only part a slow reader is to blame for. */
  private waitingAtCork: number | null = null;

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
    this.maxUnsentBytes = (ws as unknown as WsInternals)._receiver?._maxPayload || FALLBACK_MAX_UNSENT_BYTES;
  }

  send(msg: Uint8Array): void {
    if (this.admit(msg.length)) this.ws.send(msg);
  }

  /**
   * Sends a message framed once for everyone who gets it (see Broadcast): its bytes go to the socket
   * as they are. Only while nothing waits in the WebSocket library's own queue (it queues messages
   * only while compressing, which this server does not do), so messages still leave in order.
   */
  sendBroadcast(b: Broadcast): void {
    if (!this.admit(b.wire.length)) return;
    const ws = this.ws as unknown as WsInternals;
    if (ws._socket && ws._sender && ws._sender._queue.length === 0) ws._socket.write(b.wire);
    else this.ws.send(b.message);
  }

  /**
   * Whether a message of `bytes` may be queued for this connection; if it is too far behind, it is
   * closed instead. Whatever the server sends a connection waits in memory (ws.bufferedAmount: the
   * socket's write buffer, corked writes included, and ws's own queue) until the client reads it, so
   * a client that stops reading and keeps asking for the record (each sync step 1 is answered with
   * all of it) would grow the server without bound, and so would a tablet on a dead link while its
   * colleagues edit. What waits may go past the cap by the largest message queued since nothing was
   * waiting, so a record or an offline bundle of any size still goes whole to a tablet on a slow
   * link, with the cap (two full-size bundles) for everything the room sends meanwhile; the check is
   * made before queueing, so one message more may be added. A connection that does not read thus
   * holds at most the cap and two of its largest messages.
   */
  private admit(bytes: number): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    const waiting = this.waitingAtCork ?? this.ws.bufferedAmount;
    if (waiting === 0 && this.waitingAtCork === null) this.largestWaiting = 0;
    if (waiting > this.maxUnsentBytes + this.largestWaiting) {
      this.fellBehind(waiting);
      return false;
    }
    if (bytes > this.largestWaiting) this.largestWaiting = bytes;
    return true;
  }

  /** Closed with a reason the client reads if it reads again soon; cut after a grace otherwise. */
  private fellBehind(waiting: number): void {
    const mb = (n: number): string => (n / (1024 * 1024)).toFixed(1);
    this.close(CLOSE.tooFarBehind, `Too far behind: ${mb(waiting)} MB unsent, over ${mb(this.maxUnsentBytes)} MB beyond the largest message; reconnect`);
    const ws = this.ws;
    setTimeout(() => ws.terminate(), BEHIND_GRACE_MS).unref();
  }

  /**
   * Holds writes so several messages leave in one syscall. Held writes count in ws.bufferedAmount
   * until uncork, however fast the client reads, so meanwhile admit judges what waited before.
   */
  cork(): void {
    this.waitingAtCork = this.ws.bufferedAmount;
    if (this.waitingAtCork === 0) this.largestWaiting = 0;
    (this.ws as unknown as WsInternals)._socket?.cork();
  }

  uncork(): void {
    this.waitingAtCork = null;
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
