// `npm run check -- --data-dir X` (or `--file backup.sqlite`): SQLite integrity, every document
// loadable, log numbering within its recorded block, audit chain intact. Prints a JSON report; exits 1 when anything is wrong.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkDataDir, checkFile } from '../apps/sync-server/src/ops/check.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, file: { type: 'string' } } });
try {
  const report = values.file
    ? checkFile(path.resolve(values.file))
    : checkDataDir(path.resolve(values['data-dir'] ?? process.env.DATA_DIR ?? './data'));
  console.log(JSON.stringify(report, null, 2));
  if (!report.ok) {
    const a = report.audit;
    if (!a.ok) console.error(`Audit chain broken at row ${a.badRowId}: ${a.problem}`);
    if (report.documents.bad.length) console.error(`${report.documents.bad.length} document(s) could not be loaded`);
    const n = report.numbering;
    if (!n.ok) console.error(`Log row ${n.highest} is past the recorded numbering (${n.reserved}): a restart would number new rows again from there`);
    if (report.integrity[0] !== 'ok') console.error(`SQLite integrity check: ${report.integrity.join('; ')}`);
  }
  process.exit(report.ok ? 0 : 1);
} catch (e) {
  console.error(`Check failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
