// Soak smoke: a few seconds of clients moving between records; once they leave, every record unloads.
// The real soak (minutes, memory flatness) is tests/faults/soak.ts.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { soakRun } from './lib/soak-run.js';

describe('soak (smoke)', () => {
  it('unloads every record once its clients have left, after clients came and went under edits', async () => {
    const r = await soakRun({ seconds: 4, clients: 20, rooms: 10, rate: 100, stay: 1, sampleMs: 1000, seed: 5, recordLife: 2, kernelWaits: true });
    expect(r.edits).toBeGreaterThan(200);
    expect(r.roomsAtPeak).toBeGreaterThan(0);
    // Patients turned over: one every 0.2 s took a record's place.
    expect(r.patients).toBeGreaterThan(20);
    // What the server held idle, before and after: read, and plausible (a snapshot's objects and code
    // are parts of V8's heap, which is part of the process).
    for (const h of [r.heldBefore, r.heldAfter]) expect(h.heap).toBeLessThan(h.rss);
    for (const o of [r.objectsBefore, r.objectsAfter]) {
      expect(o.objects).toBeGreaterThan(1);
      expect(o.code).toBeGreaterThan(0);
      expect(o.objects + o.code).toBeLessThan(r.heldAfter.heap * 1.5);
    }
    // Each window also says what an idle process beside the server saw of its own loop, and what the
    // kernel counted, so a stall can be told to be the server's or the machine's.
    expect(r.samples.length).toBeGreaterThan(2);
    for (const s of r.samples) {
      expect(s.probeMaxMs).toBeGreaterThanOrEqual(0);
      expect(s.probeMaxMs).toBeLessThan(s.t * 1000 + 5000);
      if (fs.existsSync('/proc/pressure/io')) expect(s.machine.ioFull).toBeGreaterThanOrEqual(0);
      expect(s.diskWaitMs).toBeGreaterThanOrEqual(0);
      expect(s.diskWaitMs).toBeLessThan(5000);
    }
    expect(r.stallsShared).toBeLessThanOrEqual(r.stalls);
    expect(r.diskWaits).toBeDefined();
    expect(r.roomsAfter).toBe(0);
  }, 60_000);
});
