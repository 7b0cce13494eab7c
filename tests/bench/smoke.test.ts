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
    let stdout = '';
    try {
      ({ stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 2 ** 20, timeout: 150_000 }));
    } catch (e) {
      const { stdout: out = '', stderr = '' } = e as { stdout?: string; stderr?: string };
      throw new Error(`npm run bench failed: ${(e as Error).message}\n${out}\n${stderr}`);
    }
    // What the run logged goes with every failure below: on a busy machine, it says what happened.
    const log = stdout.split('\n').filter((l) => l.startsWith('[bench]')).join('\n');
    const { results } = JSON.parse(fs.readFileSync(out, 'utf8')) as { results: { name: string; figures: Record<string, number> }[] };
    expect(results.map((r) => r.name), log).toEqual(['Pamoja', 'Pamoja GATE=off']);
    for (const { name, figures } of results) {
      for (const key of [
        'memPerConnKB', 'memPerDocKB', 'manyP50', 'manyP99', 'manyServerCpu', 'rssManyMB', 'rssManyPeakMB', 'rssManyHeldMB', 'hotP50', 'hotP99', 'ingestPerSec', 'cpuUsPerUpdate',
        'bundleMs', 'openColdMs', 'openWarmMs', 'coldStartMs', 'manyDelivered', 'hotDelivered', 'ingestAcks', 'ingestSent',
      ]) {
        expect(Number.isFinite(figures[key]), `${name} ${key}\n${log}`).toBe(true);
      }
      // Every fan-out message sent while measuring arrived, once (the runs wait for late ones, so a
      // busy machine makes them slow, not lost; one message in 200 either way allows for a send
      // timed exactly at the start of measuring). Every ingest update was acknowledged (the count
      // can include a writer's first sync message, answered after its connection was ready).
      for (const key of ['manyDelivered', 'hotDelivered']) {
        expect(figures[key], `${name} ${key}\n${log}`).toBeGreaterThan(0.995);
        expect(figures[key], `${name} ${key}\n${log}`).toBeLessThan(1.005);
      }
      expect(figures.ingestAcks, log).toBeGreaterThanOrEqual(figures.ingestSent!);
      expect(figures.ingestAcks, log).toBeLessThanOrEqual(figures.ingestSent! + 2);
    }
    expect(stdout).toMatch(/Issue targets for Pamoja \(gate on\):/);
    expect(stdout).not.toMatch(/\| +n\/a +\| +n\/a +\|/);
  }, 180_000);
});
