// Staff accounts: create, look up, check a password.

import { randomUUID } from 'node:crypto';
import { isRole, type Role } from '@pamoja/permissions';
import { statement, type DB } from '../storage/db.js';
import { hashPassword, verifyPassword } from './passwords.js';

export interface User {
  id: string;
  username: string;
  name: string;
  role: Role;
  disabled: boolean;
}

interface UserRow {
  id: string;
  username: string;
  name: string;
  role: string;
  password_hash: string;
  disabled: number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  name: r.name,
  role: isRole(r.role) ? r.role : 'RECEPTIONIST',
  disabled: r.disabled === 1,
});

export class Users {
  constructor(private readonly db: DB) {}

  count(): number {
    return (this.db.prepare('SELECT count(*) AS c FROM users').get() as { c: number }).c;
  }

  /** `passwordHash`, when given, is an already computed scrypt hash of `password` (demo seeding). */
  async create(input: { username: string; name: string; role: Role; password: string; passwordHash?: string }): Promise<User> {
    const id = randomUUID();
    const hash = input.passwordHash ?? (await hashPassword(input.password));
    this.db
      .prepare('INSERT INTO users (id, username, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, input.username, input.name, input.role, hash, new Date().toISOString());
    return { id, username: input.username, name: input.name, role: input.role, disabled: false };
  }

  byId(id: string): User | null {
    const r = statement(this.db, 'SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  byUsername(username: string): User | null {
    const r = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map(toUser);
  }

  /** The user when the password is right and the account is enabled; null otherwise. */
  async authenticate(username: string, password: string): Promise<User | null> {
    const r = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    if (!r) {
      // Spend the same time as a real check so usernames cannot be probed by timing.
      await verifyPassword(password, 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
      return null;
    }
    const ok = await verifyPassword(password, r.password_hash);
    return ok && r.disabled === 0 ? toUser(r) : null;
  }
}
