// `npm run bench` is what anyone checking our figures runs, for 20 minutes at the scale. Here
// it runs whole against Pamoja (gate on and off) at a small scale: every scenario must finish and
// yield every figure, or the full run would fail or print gaps. The peers are left out: they are
// installed on demand from the network, which a test machine need not have.
//
// The scale still has to reach what broke a full run before: 150 idle connections of one person in
// one room (the memory scenario), past where charging each one's announcement cut them off.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('npm run bench', () => {
  it('runs every scenario against Pamoja at a small scale and reports every figure', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pamoja-bench-smoke-')), 'results.json');
    const args = [
      '--import', 'tsx', 'tests/bench/run.ts', '--only', 'pamoja',
      '--conns', '40', '--rooms', '10', '--duration', '1', '--repeat', '1', '--max-steal', '100',
      '--hot-conns', '10', '--hot-rate', '50', '--writers', '2', '--updates', '300',
      '--bundle-edits', '200', '--large-edits', '500', '--idle-conns', '150', '--docs', '30', '--out', out,
    ];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 2 ** 20, timeout: 150_000 });
    const { results } = JSON.parse(fs.readFileSync(out, 'utf8')) as { results: { name: string; figures: Record<string, number> }[] };
    expect(results.map((r) => r.name)).toEqual(['Pamoja', 'Pamoja GATE=off']);
    for (const { figures } of results) {
      for (const key of [
        'memPerConnKB', 'memPerDocKB', 'manyP50', 'manyP99', 'manyServerCpu', 'rssManyMB', 'rssManyPeakMB', 'rssManyHeldMB', 'hotP50', 'hotP99', 'ingestPerSec', 'cpuUsPerUpdate',
        'bundleMs', 'openColdMs', 'openWarmMs', 'coldStartMs', 'manyDelivered', 'hotDelivered', 'ingestAcks', 'ingestSent',
      ]) {
        expect(Number.isFinite(figures[key]), key).toBe(true);
      }
      // The fan-out runs' messages arrived (counted by send time, so a one-second run's edges can
      // tip the share a little either way), and every ingest update was acknowledged (the count can
      // include a writer's first sync message, answered after its connection was ready).
      expect(figures.manyDelivered).toBeGreaterThan(0.98);
      expect(figures.hotDelivered).toBeGreaterThan(0.98);
      expect(figures.ingestAcks).toBeGreaterThanOrEqual(figures.ingestSent!);
      expect(figures.ingestAcks).toBeLessThanOrEqual(figures.ingestSent! + 2);
    }
    expect(stdout).toMatch(/Issue targets for Pamoja \(gate on\):/);
    expect(stdout).not.toMatch(/\| +n\/a +\| +n\/a +\|/);
  }, 180_000);
});
