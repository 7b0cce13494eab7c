// Field locks: one person at a time on fields that must not be edited concurrently. Granted by the
// server, visible to everyone on the record, released on request, on disconnect, or after idling.

import { isLockable } from '@pamoja/schema';

export const LOCK_IDLE_MS = 5 * 60_000;
/** Fields and units that can be locked: the list lives in @pamoja/schema, shared with the web app. */
export { LOCKABLE_FIELDS as LOCKABLE } from '@pamoja/schema';

/** Locks one person may hold on one record at a time (the web app holds one, on the field in focus). */
export const MAX_LOCKS_PER_PERSON = 8;

export interface Lock {
  path: string;
  userId: string;
  name: string;
  role: string;
  /** The holder's connections that asked for it: it goes when the last of them closes. */
  conns: Set<number>;
  since: number;
  touched: number;
}

export interface LockRequest {
  path: string;
  userId: string;
  name: string;
  role: string;
  connId: number;
}

export class LockTable {
  private readonly locks = new Map<string, Lock>();

  constructor(private readonly idleMs = LOCK_IDLE_MS) {}

  /** Locks held (some may have expired and not yet been swept). */
  get size(): number {
    return this.locks.size;
  }

  list(now = Date.now()): Lock[] {
    this.expire(now);
    return [...this.locks.values()];
  }

  acquire(req: LockRequest, now = Date.now()): { ok: true } | { ok: false; reason: string } {
    if (!isLockable(req.path)) return { ok: false, reason: `${req.path} cannot be locked` };
    this.expire(now);
    const held = this.locks.get(req.path);
    if (held && held.userId !== req.userId) return { ok: false, reason: `${held.name} is editing this field` };
    if (held) {
      // Asked again (another tab, a refocus): not a sign of work, so the idle clock runs on.
      held.conns.add(req.connId);
      return { ok: true };
    }
    let mine = 0;
    for (const l of this.locks.values()) if (l.userId === req.userId) mine++;
    if (mine >= MAX_LOCKS_PER_PERSON) {
      return { ok: false, reason: `You already hold ${mine} locks on this record; finish with one of them first` };
    }
    const { connId, ...who } = req;
    this.locks.set(req.path, { ...who, conns: new Set([connId]), since: now, touched: now });
    return { ok: true };
  }

  release(path: string, userId: string): boolean {
    const held = this.locks.get(path);
    if (!held || held.userId !== userId) return false;
    this.locks.delete(path);
    return true;
  }

  releaseConnection(connId: number): boolean {
    let any = false;
    for (const [p, l] of this.locks) {
      if (l.conns.delete(connId) && l.conns.size === 0) (this.locks.delete(p), (any = true));
    }
    return any;
  }

  /** Keeps the holder's lock alive while they write. */
  touch(userId: string, paths: string[], now = Date.now()): void {
    for (const p of paths) {
      const l = this.locks.get(p);
      if (l && l.userId === userId) l.touched = now;
    }
  }

  /** The name of whoever else holds a lock on this field or its unit. */
  heldByOther(fieldPath: string, unitPath: string, userId: string, now = Date.now()): string | null {
    if (this.locks.size === 0) return null;
    this.expire(now);
    for (const p of [fieldPath, unitPath]) {
      const l = this.locks.get(p);
      if (l && l.userId !== userId) return l.name;
    }
    return null;
  }

  /** Drops locks idle too long; returns true when any went. */
  expire(now = Date.now()): boolean {
    let any = false;
    for (const [p, l] of this.locks) if (now - l.touched > this.idleMs) (this.locks.delete(p), (any = true));
    return any;
  }
}
