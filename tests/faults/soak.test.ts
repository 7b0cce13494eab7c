// Soak smoke: a few seconds of clients moving between records; once they leave, every record unloads.
// The real soak (minutes, memory flatness) is tests/faults/soak.ts.
import { describe, expect, it } from 'vitest';
import { soakRun } from './lib/soak-run.js';

describe('soak (smoke)', () => {
  it('unloads every record once its clients have left, after clients came and went under edits', async () => {
    const r = await soakRun({ seconds: 4, clients: 20, rooms: 10, rate: 100, stay: 1, sampleMs: 1000, seed: 5, recordLife: 2 });
    expect(r.edits).toBeGreaterThan(200);
    expect(r.roomsAtPeak).toBeGreaterThan(0);
    // Patients turned over: one every 0.2 s took a record's place.
    expect(r.patients).toBeGreaterThan(20);
    // What the server held idle, after a full collection, before and after: read, and plausible.
    for (const h of [r.heldBefore, r.heldAfter]) {
      expect(h.rss).toBeGreaterThan(20);
      expect(h.heap).toBeGreaterThan(1);
      expect(h.heap).toBeLessThan(h.rss);
    }
    expect(r.samples.every((s) => s.rssMB > 0)).toBe(true);
    // The server's own event-loop delay is read in every window.
    expect(r.samples.every((s) => Number.isFinite(s.lagP99Ms) && s.lagMaxMs >= s.lagP99Ms && s.lagP99Ms >= 0)).toBe(true);
    expect(r.roomsAfter).toBe(0);
  }, 60_000);
});
