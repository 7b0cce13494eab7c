// Staff account administration: create, rename, disable/enable, reset password, change role.
// Every change is audited and reaches live WebSocket connections at once, not at next login.

import type { Role } from '@pamoja/permissions';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import type { Actor } from '../gate/actor.js';
import type { User } from '../auth/users.js';
import { hashPassword } from '../auth/passwords.js';
import { CLOSE, extMessage } from '../sync/protocol.js';

/** An admin action that cannot be done, with a message for the person who asked. */
export class AdminError extends Error {
  constructor(readonly status: 404 | 409, message: string) {
    super(message);
  }
}

export interface UserView extends User {
  createdAt: string;
  /** Live WebSocket connections of this user right now. */
  connections: number;
}

export class UserAdmin {
  constructor(private readonly ctx: ServerContext, private readonly hub: Hub) {}

  list(): UserView[] {
    const created = new Map(
      (this.ctx.db.prepare('SELECT id, created_at FROM users').all() as { id: string; created_at: string }[]).map((r) => [r.id, r.created_at]),
    );
    const live = new Map<string, number>();
    for (const c of this.hub.connections()) live.set(c.actor.userId, (live.get(c.actor.userId) ?? 0) + 1);
    return this.ctx.users.list().map((u) => ({ ...u, createdAt: created.get(u.id) ?? '', connections: live.get(u.id) ?? 0 }));
  }

  async create(by: Actor, input: { username: string; name: string; role: Role; password: string }): Promise<User> {
    const taken = (): AdminError => new AdminError(409, `The username "${input.username}" is taken`);
    if (this.ctx.users.byUsername(input.username)) throw taken();
    let user: User;
    try {
      user = await this.ctx.users.create(input);
    } catch (e) {
      // Two admins creating the same name at once: both passed the check above while the password hashed.
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw taken();
      throw e;
    }
    this.audit(by, 'USER_CREATE', user, null, { username: user.username, name: user.name, role: user.role });
    return user;
  }

  /**
   * Name, role and enabled state in one request: every rule is checked before anything changes, so a
   * refused request changes nothing. Each given field is then one audited change, in that order.
   */
  edit(by: Actor, userId: string, edit: { name?: string; role?: Role; disabled?: boolean }): Record<string, unknown> {
    const user = this.get(userId);
    const losesAdmin = (edit.role !== undefined && edit.role !== 'ADMIN') || edit.disabled === true;
    if (user.role === 'ADMIN' && losesAdmin) this.keepOneAdmin(userId);
    let result: Record<string, unknown> = { ...user };
    if (edit.name !== undefined) result = { ...result, ...this.rename(by, userId, edit.name) };
    if (edit.role !== undefined) result = { ...result, ...this.changeRole(by, userId, edit.role) };
    if (edit.disabled !== undefined) result = { ...result, ...this.setDisabled(by, userId, edit.disabled) };
    return result;
  }

  rename(by: Actor, userId: string, name: string): User {
    const user = this.get(userId);
    this.ctx.db.prepare('UPDATE users SET name = ? WHERE id = ?').run(name, userId);
    // Presence and audit rows of live connections carry the name; keep them truthful.
    for (const c of this.hub.connections()) if (c.actor.userId === userId) c.actor = { ...c.actor, name };
    this.audit(by, 'USER_RENAME', user, user.name, name);
    return { ...user, name };
  }

  /** Disabling signs the person out everywhere: their tokens are revoked and their sockets closed. */
  setDisabled(by: Actor, userId: string, disabled: boolean): User & { closedConnections: number } {
    const user = this.get(userId);
    if (disabled && user.role === 'ADMIN') this.keepOneAdmin(userId);
    this.ctx.db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, userId);
    let closed = 0;
    if (disabled) {
      closed = this.hub.connections().filter((c) => c.actor.userId === userId).length;
      this.ctx.sessions.revokeAllFor(userId);
      // Sockets opened with a token revoked before now are caught by the revoke listener; this is the
      // belt to those braces, for any connection whose token row was already gone.
      this.hub.closeSessions((c) => c.actor.userId === userId, CLOSE.unauthorized, 'Your account was disabled');
    }
    this.audit(by, disabled ? 'USER_DISABLE' : 'USER_ENABLE', user, user.disabled, disabled);
    return { ...user, disabled, closedConnections: closed };
  }

  async resetPassword(by: Actor, userId: string, password: string, signOut: boolean): Promise<{ revokedSessions: number }> {
    const user = this.get(userId);
    const hash = await hashPassword(password);
    this.ctx.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, userId);
    const revoked = signOut ? this.ctx.sessions.revokeAllFor(userId).length : 0;
    // Never audit the password itself, only that it changed.
    this.audit(by, 'USER_RESET_PASSWORD', user, null, signOut ? 'reset; signed out everywhere' : 'reset');
    return { revokedSessions: revoked };
  }

  /**
   * The new role applies to the person's next message on every live connection: the gate reads
   * `conn.actor.role` for each update it judges, and HTTP reads the role from the database per request.
   */
  changeRole(by: Actor, userId: string, role: Role): User & { liveConnections: number } {
    const user = this.get(userId);
    if (user.role === 'ADMIN' && role !== 'ADMIN') this.keepOneAdmin(userId);
    this.ctx.db.prepare('UPDATE users SET role = ? WHERE id = ?').run(role, userId);
    let live = 0;
    for (const room of this.hub.rooms.values()) {
      for (const c of room.conns) {
        if (c.actor.userId !== userId) continue;
        c.actor = { ...c.actor, role };
        live++;
        // Field locks were granted for the old role's fields; others must not wait on them.
        if (room.locks.releaseConnection(c.id)) room.broadcastLocks();
        // Clients that asked for extension messages learn their new role so the app can re-grey its forms.
        if (c.ext) c.send(extMessage({ type: 'role-changed', role }));
      }
    }
    this.audit(by, 'USER_ROLE', user, user.role, role);
    return { ...user, role, liveConnections: live };
  }

  get(userId: string): User {
    const user = this.ctx.users.byId(userId);
    if (!user) throw new AdminError(404, 'No such user');
    return user;
  }

  private keepOneAdmin(userId: string): void {
    const others = this.ctx.db
      .prepare("SELECT count(*) AS c FROM users WHERE role = 'ADMIN' AND disabled = 0 AND id != ?")
      .get(userId) as { c: number };
    if (others.c === 0) throw new AdminError(409, 'This is the last enabled administrator; make someone else an administrator first');
  }

  private audit(by: Actor, action: string, user: User, oldValue: unknown, newValue: unknown): void {
    this.ctx.audit.record(by, [{ action, outcome: 'ok', path: `users/${user.username}`, oldValue, newValue, detail: user.id }]);
  }
}
