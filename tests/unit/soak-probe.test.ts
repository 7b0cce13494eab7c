// The soak's witnesses for a stall: an idle probe process that times its own event loop, the
// kernel's counters, and a watch on what the server's main thread waits for in the kernel. A stall
// the probe shares with the server is the machine's; one in which the server waited on the disk is
// the disk's. These tests show each witness sees what it claims to.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { countersSince, readCounters, startLoopProbe, watchKernelWaits } from '../faults/lib/machine.js';

describe('soak stall witnesses', () => {
  it('the idle probe reports a stall when its process is held up, and none when it is not', async () => {
    const probe = await startLoopProbe();
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

describe('kernel wait watch', () => {
  const stacksReadable = ((): boolean => {
    try {
      return fs.readFileSync('/proc/self/stack', 'utf8').length > 0;
    } catch {
      return false;
    }
  })();

  it('sees a thread waiting on the disk, and where, and nothing from a thread that only sleeps', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pamoja-kw-')), 'f');
    // One process fsyncs a file over and over (it waits on the disk most of the time), one sleeps.
    const syncer = spawn(process.execPath, ['-e', `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'w');const b=Buffer.alloc(4096,1);for(;;){fs.writeSync(fd,b,0,4096,0);fs.fsyncSync(fd);}`]);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const [a, b] = await Promise.all([watchKernelWaits(syncer.pid!), watchKernelWaits(sleeper.pid!)]);
      await new Promise((r) => setTimeout(r, 1500));
      const [busy, idle] = await Promise.all([a.read(), b.read()]);
      a.stop();
      b.stop();
      expect(busy.samples).toBeGreaterThan(100);
      expect(busy.share).toBeGreaterThan(0.1);
      expect(busy.longestMs).toBeGreaterThan(0);
      if (stacksReadable) expect(busy.stacks[0]!.stack).toMatch(/sync/);
      expect(idle.samples).toBeGreaterThan(100);
      expect(idle.share).toBe(0);
      expect(idle.stacks).toEqual([]);
    } finally {
      syncer.kill();
      sleeper.kill();
    }
  });
});
