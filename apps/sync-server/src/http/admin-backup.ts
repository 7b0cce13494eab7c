// /admin/backups: online backups into BACKUP_DIR while the server runs, listed and downloadable.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import * as v from './validate.js';
import type { ServerContext } from '../context.js';
import { backupTo } from '../ops/backup.js';
import { unbounded } from './sockets.js';
import { incomingOf, type AppEnv } from './auth.js';
import { param } from './admin-validate.js';

const BackupName = v.string().regex(/^pamoja-[0-9TZ-]+\.sqlite$/, 'is not a backup file name');

export const backupDirOf = (ctx: ServerContext): string => ctx.config.backupDir ?? path.join(ctx.config.dataDir, 'backups');

export function adminBackupRoutes(ctx: ServerContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const dir = backupDirOf(ctx);

  // One backup at a time: a second request (a double click, two administrators) is told so.
  let running: string | null = null;
  app.post('/', async (c) => {
    if (running !== null) return c.json({ error: `A backup started at ${running} is still being written; try again when it has finished` }, 409);
    running = new Date().toISOString();
    let r;
    try {
      ctx.queue.flush(); // every acknowledged change is in the copy
      // A large clinic's database can take a while to copy, with nothing to send until it is done.
      r = await unbounded(incomingOf(c), ctx.config.httpIdleMs, () => backupTo(ctx.db, dir));
    } finally {
      running = null;
    }
    ctx.audit.record(c.get('actor'), [{ action: 'BACKUP', outcome: 'ok', path: path.basename(r.file), detail: `${r.bytes} bytes in ${r.ms} ms` }]);
    ctx.log.info({ file: r.file, bytes: r.bytes, ms: r.ms }, 'backup written');
    return c.json({ name: path.basename(r.file), ...r }, 201);
  });

  app.get('/', (c) => {
    const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => BackupName.safeParse(n).success).sort().reverse() : [];
    return c.json({ dir, backups: names.map((name) => ({ name, bytes: fs.statSync(path.join(dir, name)).size })) });
  });

  app.get('/:name', (c) => {
    const name = param(c, 'name', BackupName);
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) return c.json({ error: 'No such backup' }, 404);
    ctx.audit.record(c.get('actor'), [{ action: 'BACKUP_DOWNLOAD', outcome: 'ok', path: name }]);
    c.header('content-type', 'application/vnd.sqlite3');
    c.header('content-disposition', `attachment; filename="${name}"`);
    c.header('content-length', String(fs.statSync(file).size));
    // Streamed from the disk as the client takes it: a clinic's database of some years does not fit
    // in one read (Node refuses files over 2 GiB), and reading it whole would hold up every record.
    return c.body(Readable.toWeb(fs.createReadStream(file)) as ReadableStream<Uint8Array>);
  });

  return app;
}
