// `npm run bench`: the same workload against Pamoja (gate on and off) and, in the same run, the
// y-websocket 2 server and Hocuspocus 3 + SQLite. Servers on core 0, load on core 1. See README "Benchmark".

import { execFileSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HELP, parseBenchArgs } from './args.js';
import { ensurePeers } from './peers/ensure.js';
import { isQuiet, STEAL_RETRIES, TargetBench, type FanoutRun, type Figures } from './scenarios.js';
import { hasTaskset, PEERS, ROOT, startTarget, stopTarget, TARGETS } from './targets.js';
import { Workers } from './workers.js';
import { renderTable } from './report/table.js';
import { renderVerdicts, verdicts } from './report/targets.js';

const args = parseBenchArgs(process.argv.slice(2));
if (!args) {
  console.log(HELP);
  process.exit(0);
}
const log = (s: string): void => console.log(`[bench] ${s}`);
const targets = TARGETS.filter((t) => !args.only.length || args.only.some((o) => t.name.toLowerCase().includes(o)));
if (targets.some((t) => !t.pamoja)) ensurePeers(PEERS, log);
// Pamoja runs as `npm start` runs it: the bundled server, no TypeScript compiler in the process.
if (targets.some((t) => t.pamoja)) execSync('npm run build --workspace @pamoja/sync-server', { stdio: 'ignore' });
if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
else log('taskset or a second core is missing: server and load share the CPU, figures are not comparable');

const workers = new Workers(args.workers);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pamoja-bench-'));
const on = (s: string): boolean => args.scenarios.includes(s);
const SETTLE_MS = 6000;
const benches: TargetBench[] = [];
try {
  // Every server is started (and measured for memory, which restarts it) before any fan-out run.
  for (const target of targets) {
    log(`=== ${target.name}`);
    const run = await startTarget(target, path.join(scratch, target.name.replace(/\W+/g, '-')));
    const b = await TargetBench.prepare(run, workers, args, (s) => log(`${target.name}: ${s}`));
    benches.push(b);
    if (on('memory')) await b.memory();
  }
  // Fan-out: runs interleaved across the servers (1 of each, 2 of each, ..., every other round in
  // reverse order), so noise on a shared machine falls on all of them alike.
  for (const kind of ['many', 'hot'] as const) {
    if (!on(kind)) continue;
    log(`=== fan-out (${kind}), runs interleaved across servers`);
    const sessions = [];
    for (const b of benches) sessions.push({ b, s: await b.openFanout(kind) });
    // Work the servers deferred while the rooms were registered (Pamoja's checkpoint of the
    // registrations) is not part of the steady fan-out measured.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    // One short run per server first, not counted: whichever server went first would otherwise also
    // pay for the load processes' first run (their code not yet compiled, their heaps growing).
    for (const { b, s } of sessions) await b.fanoutWarmup(s);
    // A round in which the hypervisor took more than --max-steal of the machine during any run is run
    // again, whole, so every server still gets the same workload (the y-websocket server keeps every
    // edit in memory); each server's counted run is its first quiet try (see keptTry).
    for (let r = 0; r < args.repeat; r++) {
      const order = r % 2 ? [...sessions].reverse() : sessions;
      const tries = new Map(order.map(({ s }) => [s, [] as FanoutRun[]]));
      for (let t = 0; ; t++) {
        for (const { b, s } of order) tries.get(s)!.push(await b.fanoutTry(s, `run ${r + 1}/${args.repeat}${t ? `, try ${t + 1}` : ''}`));
        const loud = order.filter(({ s }) => !isQuiet(tries.get(s)![t]!, args.maxSteal)).length;
        if (!loud || t === STEAL_RETRIES) break;
        log(`  round ${r + 1}: steal above ${args.maxSteal}% in ${loud} of ${order.length} runs; the round again`);
      }
      for (const { b, s } of order) b.keepRun(s, tries.get(s)!);
    }
    for (const { b, s } of sessions) b.closeFanout(s);
  }
  for (const b of benches) {
    log(`=== ${b.run.target.name}`);
    if (on('ingest')) await b.ingest();
    if (on('bundle')) await b.bundle();
    if (on('large')) await b.large();
    if (on('start')) await b.coldStart();
    const f = b.f;
    // Only what this run measured (--scenarios may leave out either fan-out room or the ingest).
    const checks: string[] = [];
    if (f.manyDelivered !== undefined) checks.push(`delivered ${(f.manyDelivered * 100).toFixed(1)}% of many-rooms fan-out messages`);
    if (f.hotDelivered !== undefined) checks.push(`delivered ${(f.hotDelivered * 100).toFixed(1)}% of hot-room fan-out messages`);
    if (f.ingestSent !== undefined) checks.push(`${f.ingestAcks} acks for ${f.ingestSent} ingest updates`);
    if (checks.length) log(`${b.run.target.name}: ${checks.join('; ')}`);
    await stopTarget(b.run);
  }
} finally {
  for (const b of benches) await stopTarget(b.run);
  workers.close();
  fs.rmSync(scratch, { recursive: true, force: true });
}
const results: { name: string; figures: Figures }[] = benches.map((b) => ({ name: b.run.target.name, figures: b.f as Figures }));

console.log('\n' + renderTable(results));
const pamoja = results.find((r) => r.name === 'Pamoja');
if (pamoja) {
  console.log('\nIssue targets for Pamoja (gate on):');
  console.log(renderVerdicts(verdicts(pamoja.figures, results.find((r) => r.name === 'y-websocket 2')?.figures)));
}
const out = path.resolve(ROOT, args.out);
fs.mkdirSync(path.dirname(out), { recursive: true });
let commit = '';
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
} catch {
  /* not a checkout */
}
fs.writeFileSync(out, JSON.stringify({
  at: new Date().toISOString(), commit, node: process.version, cpus: os.cpus().length, pinned: hasTaskset, args, results,
}, null, 2));
console.log(`\nJSON: ${path.relative(ROOT, out)}`);
