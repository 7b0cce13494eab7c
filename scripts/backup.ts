// `npm run backup -- <dir> [--data-dir X]`: online backup of a data directory's database into <dir>,
// safe while the server runs. DATA_DIR (default ./data) names the data directory when --data-dir is absent.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { backupDataDir } from '../apps/sync-server/src/ops/backup.js';

const { values, positionals } = parseArgs({ options: { 'data-dir': { type: 'string' } }, allowPositionals: true });
const target = positionals[0];
if (!target) {
  console.error('Usage: npm run backup -- <backup-dir> [--data-dir <data-dir>]');
  process.exit(2);
}
const dataDir = path.resolve(values['data-dir'] ?? process.env.DATA_DIR ?? './data');
try {
  const r = await backupDataDir(dataDir, path.resolve(target));
  console.log(JSON.stringify({ ok: true, dataDir, ...r }));
} catch (e) {
  console.error(`Backup failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
