// Live channels: the open Server-Sent-Event streams, by user, so a new notification or a moved
// queue reaches the people who are looking right now. Stored notifications cover everyone else.

import type { Role } from '@pamoja/permissions';

export interface Subscriber {
  userId: string;
  role: Role;
  tokenHash: string;
  send: (event: string, data: unknown) => void;
  close: () => void;
}

export class LiveChannels {
  private readonly subs = new Set<Subscriber>();

  add(s: Subscriber): () => void {
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  get size(): number {
    return this.subs.size;
  }

  toUser(userId: string, event: string, data: unknown): void {
    for (const s of this.subs) if (s.userId === userId) s.send(event, data);
  }

  toEveryone(event: string, data: unknown): void {
    for (const s of this.subs) s.send(event, data);
  }

  /** A signed-out token must stop receiving at once. */
  closeToken(tokenHash: string): void {
    for (const s of [...this.subs]) {
      if (s.tokenHash === tokenHash) {
        this.subs.delete(s);
        s.close();
      }
    }
  }

  closeAll(): void {
    for (const s of [...this.subs]) s.close();
    this.subs.clear();
  }
}
