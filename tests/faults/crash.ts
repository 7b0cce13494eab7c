// Crash suite, long version: node --import tsx tests/faults/crash.ts [--kills 50] [--clients 12]
// [--rooms 4] [--min-ms 100] [--max-ms 1500] [--edit-every-ms 10] [--seed 1]. Exits 1 on any loss.

import { parseArgs } from 'node:util';
import { crashRun } from './lib/crash-run.js';

const { values: v } = parseArgs({
  options: {
    kills: { type: 'string', default: '50' }, clients: { type: 'string', default: '12' }, rooms: { type: 'string', default: '4' },
    'min-ms': { type: 'string', default: '100' }, 'max-ms': { type: 'string', default: '1500' },
    'edit-every-ms': { type: 'string', default: '10' }, seed: { type: 'string', default: String(Date.now() % 100000) },
  },
});
// Printed first: a run that dies half-way can still be replayed.
console.log(`[crash] seed ${v.seed} (replay with --seed ${v.seed})`);
const t0 = Date.now();
const r = await crashRun({
  kills: Number(v.kills), clients: Number(v.clients), rooms: Number(v.rooms), minMs: Number(v['min-ms']),
  maxMs: Number(v['max-ms']), editEveryMs: Number(v['edit-every-ms']), seed: Number(v.seed),
}, (s) => console.log(`[crash +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`));
console.log(JSON.stringify({ ...r, lostAcked: r.lostAcked.slice(0, 20), lostCount: r.lostAcked.length, seed: Number(v.seed) }, null, 2));
const ok = r.lostAcked.length === 0 && r.unackedAtEnd === 0 && r.converged && !r.pending;
console.log(ok ? 'PASS: no acknowledged edit lost, all clients converged' : 'FAIL');
process.exit(ok ? 0 : 1);
