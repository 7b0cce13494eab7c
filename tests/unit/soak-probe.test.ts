// The soak's witnesses for a stall: an idle probe process that times its own event loop, and the
// kernel's counters. A stall the probe shares with the server is the machine's; these tests show the
// probe really sees one when its process is held up, and that the counters are read as cumulative ms.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { LoopProbe, countersSince, readCounters } from '../faults/lib/machine.js';

describe('soak stall witnesses', () => {
  it('the idle probe reports a stall when its process is held up, and none when it is not', async () => {
    const probe = await LoopProbe.start();
    try {
      await new Promise((r) => setTimeout(r, 300));
      const calm = await probe.read();
      expect(calm.max).toBeLessThan(100);
      const pid = probe.pid;
      process.kill(pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 400));
      process.kill(pid, 'SIGCONT');
      await new Promise((r) => setTimeout(r, 100));
      const held = await probe.read();
      expect(held.max).toBeGreaterThan(300);
      expect(held.p99).toBeLessThanOrEqual(held.max);
      // Each read starts a new window: the stall is not reported twice.
      await new Promise((r) => setTimeout(r, 200));
      expect((await probe.read()).max).toBeLessThan(100);
    } finally {
      probe.stop();
    }
  });

  it('reads the kernel counters where it has them and takes differences in ms', async () => {
    const a = readCounters();
    if (fs.existsSync('/proc/stat')) expect(a.steal).toBeGreaterThanOrEqual(0);
    if (fs.existsSync('/proc/pressure/io')) expect(a.ioFull).toBeGreaterThanOrEqual(0);
    const b = readCounters();
    const d = countersSince(a, b);
    for (const k of ['steal', 'cpuSome', 'ioFull', 'memSome'] as const) {
      if (a[k] === null) expect(d[k]).toBeNull();
      else expect(d[k]).toBeGreaterThanOrEqual(0);
    }
    expect(countersSince({ steal: 10, cpuSome: null, ioFull: 1.4, memSome: 0 }, { steal: 35.6, cpuSome: 5, ioFull: 3, memSome: 0 }))
      .toEqual({ steal: 26, cpuSome: null, ioFull: 2, memSome: 0 });
  });
});
