// Soak, long version: node --import tsx tests/faults/soak.ts [--seconds 600] [--clients 200] [--rooms 100]
// [--rate 200] [--stay 20] [--record-life 60] [--sample-ms 5000] [--max-growth 1.15] [--max-held 1.15] [--seed N]
// [--kernel-waits] (also watch what the server's main thread waits for in the kernel; its stacks need root).
// Prints RSS, event-loop lag, /healthz round trip (event-loop lag as a client sees it), open rooms, and
// beside them an idle probe process's own event-loop delay and the kernel's steal and pressure counters
// (a stall the probe shares is the machine's) over time; exits 1 if memory grows past --max-growth (last third vs middle third), if the live
// objects the server holds once everyone has left (a heap snapshot, compiled code counted apart) are
// past --max-held times what it held before they came, or if records stay loaded once everyone has left.

import { parseArgs } from 'node:util';
import { PROBE_STALL_MS, STALL_MS, soakRun } from './lib/soak-run.js';

const { values: v } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' }, clients: { type: 'string', default: '200' }, rooms: { type: 'string', default: '100' },
    rate: { type: 'string', default: '200' }, stay: { type: 'string', default: '20' }, 'record-life': { type: 'string', default: '60' },
    'sample-ms': { type: 'string', default: '5000' }, 'kernel-waits': { type: 'boolean', default: false }, 'max-growth': { type: 'string', default: '1.15' }, 'max-held': { type: 'string', default: '1.15' }, seed: { type: 'string', default: String(Date.now() % 100000) },
  },
});
// Printed first: a run that dies half-way can still be replayed.
console.log(`[soak] seed ${v.seed} (replay with --seed ${v.seed})`);
const r = await soakRun({
  seconds: Number(v.seconds), clients: Number(v.clients), rooms: Number(v.rooms), rate: Number(v.rate), stay: Number(v.stay),
  sampleMs: Number(v['sample-ms']), seed: Number(v.seed), recordLife: Number(v['record-life']), kernelWaits: v['kernel-waits'],
}, (s) => console.log(`[soak] ${s}`));
console.log(JSON.stringify({ ...r, samples: undefined, diskWaits: undefined }, null, 2));
if (r.diskWaits) {
  console.log(`[soak] where the server's main thread waited on the disk, ${r.diskWaits.reduce((n, x) => n + x.ms, 0)} ms in all (estimated from samples every 2 ms):`);
  for (const x of r.diskWaits) console.log(`[soak]   ${x.ms} ms in ${x.stack}`);
}
const held = r.objectsAfter.objects / r.objectsBefore.objects;
const checks: [boolean, string][] = [
  [r.rssGrowth <= Number(v['max-growth']), `memory flat under load: last third x${r.rssGrowth.toFixed(3)} of the middle third (at most x${v['max-growth']})`],
  [held <= Number(v['max-held']), `live objects held once everyone left: ${r.objectsAfter.objects} MB, x${held.toFixed(3)} of ${r.objectsBefore.objects} MB before (at most x${v['max-held']}); compiled code ${r.objectsAfter.code} MB against ${r.objectsBefore.code} MB, V8 heap ${r.heldAfter.heap} MB against ${r.heldBefore.heap} MB`],
  [r.roomsAfter === 0, `records loaded once everyone left: ${r.roomsAfter} (of ${r.roomsAtPeak} at the peak, ${r.patients} registered in all)`],
];
for (const [pass, what] of checks) console.log(`${pass ? 'PASS' : 'FAIL'}: ${what}`);
// Not a check: the figure says whose the stalls were.
console.log(`INFO: windows with an event-loop stall past ${STALL_MS} ms: ${r.stalls} of ${r.samples.length}, worst ${r.lagMaxMs} ms; `
  + `in ${r.stallsShared} of them an idle process beside the server was held up past ${PROBE_STALL_MS} ms too (the machine's stall, not the server's)`);
const ok = checks.every(([pass]) => pass);
process.exit(ok ? 0 : 1);
