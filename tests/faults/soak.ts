// Soak, long version: node --import tsx tests/faults/soak.ts [--seconds 600] [--clients 200] [--rooms 100]
// [--rate 200] [--stay 20] [--sample-ms 5000] [--max-growth 1.15] [--seed N]. Prints RSS, event-loop lag, /healthz round
// trip (event-loop lag as a client sees it) and open rooms over time; exits 1 if memory grows past
// --max-growth (last third vs middle third) or records stay loaded once everyone has left.

import { parseArgs } from 'node:util';
import { soakRun } from './lib/soak-run.js';

const { values: v } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' }, clients: { type: 'string', default: '200' }, rooms: { type: 'string', default: '100' },
    rate: { type: 'string', default: '200' }, stay: { type: 'string', default: '20' }, 'sample-ms': { type: 'string', default: '5000' },
    'max-growth': { type: 'string', default: '1.15' }, seed: { type: 'string', default: String(Date.now() % 100000) },
  },
});
// Printed first: a run that dies half-way can still be replayed.
console.log(`[soak] seed ${v.seed} (replay with --seed ${v.seed})`);
const r = await soakRun({
  seconds: Number(v.seconds), clients: Number(v.clients), rooms: Number(v.rooms), rate: Number(v.rate), stay: Number(v.stay),
  sampleMs: Number(v['sample-ms']), seed: Number(v.seed),
}, (s) => console.log(`[soak] ${s}`));
console.log(JSON.stringify({ ...r, samples: undefined }, null, 2));
const ok = r.rssGrowth <= Number(v['max-growth']) && r.roomsAfter === 0;
console.log(ok ? `PASS: memory flat (x${r.rssGrowth.toFixed(3)}), all ${r.roomsAtPeak} records unloaded afterwards` : 'FAIL');
process.exit(ok ? 0 : 1);
