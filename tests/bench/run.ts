// `npm run bench`: the same workload against Pamoja (gate on and off) and, in the same run, the
// y-websocket 2 server and Hocuspocus 3 + SQLite. Server on core 0, load on core 1. See README "Benchmark".

import { execFileSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HELP, parseBenchArgs } from './args.js';
import { ensurePeers } from './peers/ensure.js';
import { benchTarget, type Figures } from './scenarios.js';
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
const results: { name: string; figures: Figures }[] = [];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pamoja-bench-'));
try {
  for (const target of targets) {
    log(`=== ${target.name}`);
    const dir = path.join(scratch, target.name.replace(/\W+/g, '-'));
    let run = await startTarget(target, dir);
    try {
      const out = await benchTarget(run, workers, args, (s) => log(`${target.name}: ${s}`));
      run = out.run;
      results.push({ name: target.name, figures: out.figures });
      const f = out.figures;
      log(`${target.name}: delivered ${(f.manyDelivered * 100).toFixed(1)}% / ${(f.hotDelivered * 100).toFixed(1)}% of fan-out messages; ${f.ingestAcks} acks for ${f.ingestSent} updates`);
    } finally {
      await stopTarget(run);
    }
  }
} finally {
  workers.close();
  fs.rmSync(scratch, { recursive: true, force: true });
}

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
