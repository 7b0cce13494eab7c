// One client connection as the rooms see it: who it is, what it may receive, and how to reach it.

import type { WebSocket } from 'ws';
import type { Actor } from '../gate/actor.js';

let nextConnId = 1;

export class Conn {
  readonly id = nextConnId++;
  readonly since = Date.now();
  /** Yjs client ids whose presence this connection controls. */
  readonly awarenessIds = new Set<number>();
  private tokens: number;
  private lastRefill = Date.now();

  constructor(
    readonly ws: WebSocket,
    public actor: Actor,
    readonly tokenHash: string,
    /** Asked for Pamoja's extension messages (saved acks, refusal details, locks, notifications). */
    readonly ext: boolean,
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  send(msg: Uint8Array): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(msg);
  }

  /** Holds writes so several messages leave in one syscall. */
  cork(): void {
    (this.ws as unknown as { _socket?: { cork(): void } })._socket?.cork();
  }

  uncork(): void {
    (this.ws as unknown as { _socket?: { uncork(): void } })._socket?.uncork();
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(code, closeReason(reason));
    }
  }

  /** Token bucket: false when this message is over the connection's budget. */
  takeToken(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.ratePerSec);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
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
