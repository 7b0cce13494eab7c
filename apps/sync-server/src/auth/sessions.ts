// Login tokens: random, stored only as a hash, with expiry and revocation (logout).

import { createHash, randomBytes } from 'node:crypto';
import { statement, type DB } from '../storage/db.js';
import type { User, Users } from './users.js';

export interface Session {
  tokenHash: string;
  user: User;
  device: string | null;
  expiresAt: number;
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export class Sessions {
  private readonly revokeListeners: ((tokenHash: string) => void)[] = [];

  constructor(private readonly db: DB, private readonly users: Users, private readonly ttlMs: number) {}

  issue(user: User, device: string | null): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + this.ttlMs;
    this.db
      .prepare('INSERT INTO sessions (token_hash, user_id, device, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(hashToken(token), user.id, device, now, expiresAt);
    return { token, expiresAt };
  }

  /** The live session for a token, or null if unknown, expired, revoked, or the account is disabled. */
  check(token: string | null | undefined): Session | null {
    if (!token || token.length > 200) return null;
    const tokenHash = hashToken(token);
    const row = statement(this.db, 'SELECT user_id, device, expires_at, revoked_at FROM sessions WHERE token_hash = ?')
      .get(tokenHash) as { user_id: string; device: string | null; expires_at: number; revoked_at: number | null } | undefined;
    if (!row || row.revoked_at !== null || row.expires_at <= Date.now()) return null;
    const user = this.users.byId(row.user_id);
    if (!user || user.disabled) return null;
    return { tokenHash, user, device: row.device, expiresAt: row.expires_at };
  }

  revoke(tokenHash: string): void {
    this.db.prepare('UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL').run(Date.now(), tokenHash);
    for (const l of this.revokeListeners) l(tokenHash);
  }

  /** Whether this person is signed in anywhere (a token neither revoked nor expired, the account enabled). */
  signedIn(userId: string): boolean {
    return this.db.prepare(
      `SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.disabled = 0 LIMIT 1`,
    ).get(userId, Date.now()) !== undefined;
  }

  revokeAllFor(userId: string): string[] {
    const rows = this.db
      .prepare('SELECT token_hash FROM sessions WHERE user_id = ? AND revoked_at IS NULL')
      .all(userId) as { token_hash: string }[];
    for (const r of rows) this.revoke(r.token_hash);
    return rows.map((r) => r.token_hash);
  }

  /** Called when a token is revoked, so live WebSockets using it can be closed. */
  onRevoke(fn: (tokenHash: string) => void): void {
    this.revokeListeners.push(fn);
  }
}
