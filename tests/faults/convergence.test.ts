// Convergence suite, fast version. Long version: tests/faults/convergence.ts.
import { describe, expect, it } from 'vitest';
import { convergenceRun } from './lib/convergence-run.js';

describe('convergence', () => {
  it('server and every client end identical despite lost, duplicated and reordered messages, drops and a restart', async () => {
    const r = await convergenceRun({
      clients: 8, rooms: 2, durationMs: 3000, restarts: 1, chaos: { drop: 0.05, dup: 0.05, reorder: 0.05 }, disconnect: 0.03, seed: 7,
    });
    expect(r.edits).toBeGreaterThan(100);
    expect(r.restarts).toBe(1);
    expect(r.diverged).toEqual([]);
    expect(r.converged).toBe(true);
    expect(r.pending).toBe(false);
  }, 90_000);
});
