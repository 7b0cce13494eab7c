// Convergence suite, long version: node --import tsx tests/faults/convergence.ts [--clients 40]
// [--rooms 5] [--seconds 120] [--restarts 6] [--drop 0.05] [--dup 0.05] [--reorder 0.05]
// [--disconnect 0.03] [--seed N]. Exits 1 unless server and every client end identical.

import { parseArgs } from 'node:util';
import { convergenceRun } from './lib/convergence-run.js';

const { values: v } = parseArgs({
  options: {
    clients: { type: 'string', default: '40' }, rooms: { type: 'string', default: '5' }, seconds: { type: 'string', default: '120' },
    restarts: { type: 'string', default: '6' }, drop: { type: 'string', default: '0.05' }, dup: { type: 'string', default: '0.05' },
    reorder: { type: 'string', default: '0.05' }, disconnect: { type: 'string', default: '0.03' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
  },
});
// Printed first: a run that dies half-way can still be replayed.
console.log(`[convergence] seed ${v.seed} (replay with --seed ${v.seed})`);
const t0 = Date.now();
const r = await convergenceRun({
  clients: Number(v.clients), rooms: Number(v.rooms), durationMs: Number(v.seconds) * 1000, restarts: Number(v.restarts),
  chaos: { drop: Number(v.drop), dup: Number(v.dup), reorder: Number(v.reorder) }, disconnect: Number(v.disconnect), seed: Number(v.seed),
}, (s) => console.log(`[convergence +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`));
console.log(JSON.stringify({ ...r, diverged: r.diverged.slice(0, 20), seed: Number(v.seed) }, null, 2));
const ok = r.converged && !r.pending;
console.log(ok ? 'PASS: server and every client hold the identical document, nothing pending' : 'FAIL');
process.exit(ok ? 0 : 1);
