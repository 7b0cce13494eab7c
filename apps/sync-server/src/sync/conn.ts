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

/** Sync step 1 requests (each answered with what the client lacks, often the whole record) per connection. */
const SYNC_REQUESTS_PER_SEC = 1;
const SYNC_REQUESTS_BURST = 30;

/**
 * One person's open connections, which share a bound on what may wait unsent for all of them
 * together: the bound per connection alone let one account (500 connections) hold 8 GB, and an
 * outside test grew the server by 700 MB in 10 s with 60 connections that never read.
 */
export class Account {
  readonly conns = new Set<Conn>();
  /** The sum of what each connection had waiting when last looked at: buffers drain unseen, so at most what waits. */
  private estimate = 0;

  constructor(readonly maxUnsentBytes: number) {}

  add(conn: Conn): void {
    this.conns.add(conn);
  }

  remove(conn: Conn): void {
    if (this.conns.delete(conn)) this.estimate -= conn.lastWaiting;
  }

  /**
   * Whether `conn`, now with `waiting` bytes unsent, may be sent more. Past the bound, counted
   * again exactly over the open connections, the one furthest behind is closed.
   */
  admit(conn: Conn, waiting: number): boolean {
    this.estimate += waiting - conn.lastWaiting;
    conn.lastWaiting = waiting;
    if (this.estimate <= this.maxUnsentBytes) return true;
    let sum = 0;
    let worst: Conn | null = null;
    for (const c of this.conns) {
      // One closed already is freed within its grace; the rest are judged without it.
      c.lastWaiting = c.ws.readyState === c.ws.OPEN ? c.ws.bufferedAmount : 0;
      sum += c.lastWaiting;
      if (worst === null || c.lastWaiting > worst.lastWaiting) worst = c;
    }
    this.estimate = sum;
    if (sum <= this.maxUnsentBytes || worst === null) return true;
    worst.fellBehindTogether(sum);
    return worst !== conn;
  }
}

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
    // A clock read before the bucket was made (a caller's `now`) must not take tokens away.
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
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
  /** Told once, with the reason, when this connection is closed for being too far behind (the hub logs and counts it). */
  onFellBehind: ((reason: string) => void) | null = null;
  private readonly messages: Bucket;
  private readonly presence = new Bucket(PRESENCE_BYTES_PER_SEC, PRESENCE_BYTES_BURST);
  private readonly syncRequests = new Bucket(SYNC_REQUESTS_PER_SEC, SYNC_REQUESTS_BURST);
  /** What waited unsent when its account last looked (see Account). */
  lastWaiting = 0;
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
    /** Shared with the person's other connections; null: bounded on its own only. */
    readonly account: Account | null = null,
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
    if (this.account !== null && !this.account.admit(this, waiting)) return false;
    if (bytes > this.largestWaiting) this.largestWaiting = bytes;
    return true;
  }

  /** Closed with a reason the client reads if it reads again soon; cut after a grace otherwise. */
  private fellBehind(waiting: number): void {
    this.cutOff(`Too far behind: ${mb(waiting)} MB unsent, over ${mb(this.maxUnsentBytes)} MB beyond the largest message; reconnect`);
  }

  /** This connection is the furthest behind of its account's, which together have too much waiting. */
  fellBehindTogether(total: number): void {
    this.cutOff(`Too far behind: ${mb(total)} MB unsent to this account's connections, over ${mb(this.account!.maxUnsentBytes)} MB; reconnect`);
  }

  private cutOff(reason: string): void {
    this.onFellBehind?.(reason);
    this.close(CLOSE.tooFarBehind, reason);
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

  /** False when this sync step 1 (a request for what the client lacks) is over the connection's budget. */
  takeSyncRequest(now = Date.now()): boolean {
    return this.syncRequests.take(1, now);
  }

  /** False when a presence message of `bytes` is over the connection's presence budget. */
  takePresence(bytes: number, now = Date.now()): boolean {
    return this.presence.take(bytes, now);
  }
}

const mb = (n: number): string => (n / (1024 * 1024)).toFixed(1);

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
