// `npm run create-admin -- <username> --name "<name>" [--data-dir X]`: the first administrator of a
// clinic started with SEED_DEMO=0. Reads the password from PAMOJA_PASSWORD (kept out of shell history
// and process lists). Run it with the server stopped: the server keeps the audit chain's tail in
// memory, and a row appended behind its back would collide with its next one.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../apps/sync-server/src/storage/db.js';
import { Users } from '../apps/sync-server/src/auth/users.js';
import { CommitQueue } from '../apps/sync-server/src/storage/commit-queue.js';
import { AuditLog } from '../apps/sync-server/src/audit/audit-log.js';
import { SYSTEM_ACTOR } from '../apps/sync-server/src/gate/actor.js';

const { values, positionals } = parseArgs({ options: { 'data-dir': { type: 'string' }, name: { type: 'string' } }, allowPositionals: true });
const username = positionals[0];
const password = process.env.PAMOJA_PASSWORD ?? '';
if (!username || !/^[a-z0-9._-]{2,40}$/.test(username) || password.length < 8) {
  console.error('Usage: PAMOJA_PASSWORD=<at least 8 characters> npm run create-admin -- <username> --name "<full name>" [--data-dir <dir>]');
  process.exit(2);
}
const db = openDatabase(path.resolve(values['data-dir'] ?? process.env.DATA_DIR ?? './data'));
try {
  const users = new Users(db);
  if (users.byUsername(username)) throw new Error(`The username "${username}" is taken`);
  const user = await users.create({ username, name: values.name ?? username, role: 'ADMIN', password });
  // Chained after the last row on disk (the server is stopped, so that row is the real tail).
  const queue = new CommitQueue(db);
  new AuditLog(db, queue).record(SYSTEM_ACTOR, [{ action: 'USER_CREATE', outcome: 'ok', path: `users/${username}`, newValue: { username, role: 'ADMIN' }, detail: 'create-admin command' }]);
  queue.flush();
  console.log(JSON.stringify({ ok: true, id: user.id, username, role: 'ADMIN' }));
} catch (e) {
  console.error(`Could not create the administrator: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  db.close();
}
