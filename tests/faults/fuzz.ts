// Fuzz suite, long version: node --import tsx tests/faults/fuzz.ts [--cases 20000] [--parallel 32] [--seed N].
// Prints the outcome of every kind of bad frame; exits 1 if the server died, stalled or stayed silent.

import { parseArgs } from 'node:util';
import { fuzzRun } from './lib/fuzz-run.js';

const { values: v } = parseArgs({
  options: { cases: { type: 'string', default: '20000' }, parallel: { type: 'string', default: '32' }, seed: { type: 'string', default: String(Date.now() % 100000) } },
});
// Printed first: a run that dies half-way can still be replayed.
console.log(`[fuzz] seed ${v.seed} (replay with --seed ${v.seed})`);
const t0 = Date.now();
const r = await fuzzRun({ cases: Number(v.cases), parallel: Number(v.parallel), seed: Number(v.seed) },
  (s) => console.log(`[fuzz +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`));
console.log(JSON.stringify({ ...r, unanswered: r.unanswered.slice(0, 20), unansweredCount: r.unanswered.length, seed: Number(v.seed) }, null, 2));
const ok = !r.serverExited && r.healthFailures === 0 && r.unanswered.length === 0 && r.healthyDiff === null && r.diskDiff === null && !r.pendingOnServer && r.uncaught.length === 0;
console.log(ok ? 'PASS: server up, healthy room kept syncing and holds what the server holds, every room reads back the same after a restart, every bad frame answered' : 'FAIL');
process.exit(ok ? 0 : 1);
