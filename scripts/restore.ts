// `npm run restore -- <backup-file> --data-dir X [--force]`: with the server stopped, checks the backup
// and puts it in place as X's database (an existing database is moved aside, never deleted).

import path from 'node:path';
import { parseArgs } from 'node:util';
import { restoreBackup } from '../apps/sync-server/src/ops/restore.js';

const { values, positionals } = parseArgs({
  options: { 'data-dir': { type: 'string' }, force: { type: 'boolean', default: false } }, allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  console.error('Usage: npm run restore -- <backup-file> [--data-dir <data-dir>] [--force]   (stop the server first)');
  process.exit(2);
}
try {
  const dataDir = path.resolve(values['data-dir'] ?? process.env.DATA_DIR ?? './data');
  const r = restoreBackup(path.resolve(file), dataDir, { force: values.force });
  console.log(JSON.stringify({ ok: true, restored: r.file, movedAside: r.movedAside, documents: r.check.documents.checked, auditRows: r.check.audit.rows }));
} catch (e) {
  console.error(`Restore failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
