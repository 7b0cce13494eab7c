// Notifications kept per user with read/unread, pushed live to whoever is connected. A dedupe key
// makes each event reach each person once, however often the record is re-saved.

import type { Notification, NotificationKind, Severity } from '@pamoja/schema';
import type { DB } from '../storage/db.js';
import type { LiveChannels } from './live.js';

// The shapes are shared with the web app (@pamoja/schema).
export type { Notification, NotificationKind, Severity };

export interface NewNotification {
  kind: NotificationKind;
  severity: Severity;
  title: string;
  body: string;
  patientId: string | null;
  visitId: string | null;
  /** The same key for the same user is stored once. */
  key: string;
}

interface Row {
  id: number; user_id: string; kind: string; severity: string; title: string; body: string;
  patient_id: string | null; visit_id: string | null; created_at: string; read_at: string | null;
}

const toNotification = (r: Row): Notification => ({
  id: r.id, kind: r.kind as NotificationKind, severity: r.severity as Severity, critical: r.severity === 'critical',
  title: r.title, body: r.body, patientId: r.patient_id, visitId: r.visit_id, createdAt: r.created_at,
  readAt: r.read_at, read: r.read_at !== null,
});

export class Notifications {
  /** Stored since start, by kind: for metrics and tests. */
  readonly sent = new Map<NotificationKind, number>();
  private outbox: Row[] = [];

  constructor(private readonly db: DB, private readonly live: LiveChannels) {}

  /** Stores one notification per recipient and pushes it to their open streams. */
  send(userIds: Iterable<string>, n: NewNotification): Notification[] {
    const at = new Date().toISOString();
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO notifications (user_id, kind, severity, title, body, patient_id, visit_id, dedupe_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    );
    const stored = this.db.transaction(() => {
      const out: Row[] = [];
      for (const u of new Set(userIds)) {
        const r = insert.get(u, n.kind, n.severity, n.title, n.body, n.patientId, n.visitId, n.key, at) as Row | undefined;
        if (r) out.push(r);
      }
      return out;
    })();
    if (stored.length) this.sent.set(n.kind, (this.sent.get(n.kind) ?? 0) + stored.length);
    this.outbox.push(...stored);
    // Inside a caller's transaction the push waits for its commit (see `flush`).
    if (!this.db.inTransaction) this.flush();
    return stored.map(toNotification);
  }

  /** Pushes stored notifications to open streams; call after the transaction that stored them commits. */
  flush(): void {
    const out = this.outbox;
    this.outbox = [];
    for (const r of out) this.live.toUser(r.user_id, 'notification', toNotification(r));
  }

  /** The transaction that stored them rolled back: they do not exist, so nobody hears of them. */
  discard(): void {
    this.outbox = [];
  }

  list(userId: string, opts: { unreadOnly?: boolean; limit?: number } = {}): Notification[] {
    const rows = this.db.prepare(
      `SELECT * FROM notifications WHERE user_id = ? ${opts.unreadOnly ? 'AND read_at IS NULL' : ''} ORDER BY id DESC LIMIT ?`,
    ).all(userId, Math.min(Math.max(opts.limit ?? 50, 1), 500)) as Row[];
    return rows.map(toNotification);
  }

  /** What a reconnecting stream missed (EventSource sends the last id it saw). */
  since(userId: string, afterId: number): Notification[] {
    return (this.db.prepare('SELECT * FROM notifications WHERE user_id = ? AND id > ? ORDER BY id LIMIT 500')
      .all(userId, afterId) as Row[]).map(toNotification);
  }

  counts(userId: string): { unread: number; criticalUnread: number } {
    const r = this.db.prepare(
      `SELECT count(*) AS unread, coalesce(sum(severity = 'critical'), 0) AS critical FROM notifications WHERE user_id = ? AND read_at IS NULL`,
    ).get(userId) as { unread: number; critical: number };
    return { unread: r.unread, criticalUnread: r.critical };
  }

  /** Unread critical ones, oldest first: the app keeps them on screen until acknowledged. */
  criticalUnread(userId: string): Notification[] {
    return (this.db.prepare(
      `SELECT * FROM notifications WHERE user_id = ? AND read_at IS NULL AND severity = 'critical' ORDER BY id`,
    ).all(userId) as Row[]).map(toNotification);
  }

  /** Marks one of the user's own notifications read; null when it is not theirs or does not exist. */
  markRead(userId: string, id: number): Notification | null {
    const at = new Date().toISOString();
    this.db.prepare('UPDATE notifications SET read_at = coalesce(read_at, ?) WHERE id = ? AND user_id = ?').run(at, id, userId);
    const r = this.db.prepare('SELECT * FROM notifications WHERE id = ? AND user_id = ?').get(id, userId) as Row | undefined;
    return r ? toNotification(r) : null;
  }

  markAllRead(userId: string): number {
    return this.db.prepare('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL')
      .run(new Date().toISOString(), userId).changes;
  }
}
