// Crash suite, fast version: a few SIGKILLs under load. Long version: tests/faults/crash.ts.
import { describe, expect, it } from 'vitest';
import { crashRun } from './lib/crash-run.js';

describe('crash', () => {
  it('keeps every edit acknowledged as saved across SIGKILLs, and all clients converge', async () => {
    const r = await crashRun({ clients: 6, rooms: 2, kills: 3, minMs: 150, maxMs: 600, editEveryMs: 10, seed: 42 });
    expect(r.ackedAtKills).toBeGreaterThan(0);
    expect(r.lostAcked).toEqual([]);
    expect(r.unackedAtEnd).toBe(0);
    expect(r.converged).toBe(true);
    expect(r.pending).toBe(false);
  }, 90_000);
});
