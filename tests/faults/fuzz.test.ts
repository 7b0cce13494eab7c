// Fuzz suite, fast version. Long version: tests/faults/fuzz.ts.
import { describe, expect, it } from 'vitest';
import { fuzzRun } from './lib/fuzz-run.js';
import { CASE_KINDS } from './lib/fuzz-cases.js';

describe('fuzz', () => {
  it('survives malformed, truncated, bit-flipped and crafted frames, answers bad ones with a reason, and keeps other clients syncing', async () => {
    const r = await fuzzRun({ cases: 160, parallel: 16, seed: 3 });
    expect(r.serverExited).toBe(false);
    expect(r.healthFailures).toBe(0);
    expect(r.unanswered).toEqual([]);
    expect(r.healthyDiff).toBeNull();
    expect(r.diskDiff).toBeNull();
    expect(r.pendingOnServer).toBe(false);
    expect(r.uncaught).toEqual([]);
    expect(Object.keys(r.outcomes).length).toBe(CASE_KINDS); // every kind of case was tried
  }, 90_000);
});
