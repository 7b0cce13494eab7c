// The load processes: spawned pinned to the load core, each answering jobs from load/worker.ts.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pinned, ROOT } from './targets.js';
import type { Job } from './load/worker.js';

export class Workers {
  private readonly procs: ChildProcess[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      // --expose-gc: each runs a full collection before measuring fan-out (load/fanout.ts).
      const [cmd, argv] = pinned(1, [process.execPath, '--expose-gc', '--import', 'tsx', path.join(ROOT, 'tests/bench/load/worker.ts')]);
      const p = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      p.on('message', (m: { id: number; result?: unknown; error?: string }) => {
        const w = this.pending.get(m.id);
        if (!w) return;
        this.pending.delete(m.id);
        if (m.error) w.reject(new Error(m.error));
        else w.resolve(m.result);
      });
      p.on('exit', (code) => {
        for (const [id, w] of this.pending) (this.pending.delete(id), w.reject(new Error(`load process exited (${code})`)));
      });
      this.procs.push(p);
    }
  }

  get size(): number {
    return this.procs.length;
  }

  call<T>(i: number, job: Job): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.procs[i % this.procs.length]!.send({ id, job });
    });
  }

  /** Splits `items` over the processes and runs `make(share)` on each at the same time. */
  all<T, I>(items: I[], make: (share: I[], i: number) => Job): Promise<T[]> {
    const shares = this.procs.map((_, i) => items.filter((_, j) => j % this.procs.length === i));
    return Promise.all(shares.map((s, i) => (s.length ? this.call<T>(i, make(s, i)) : Promise.resolve(null as T))));
  }

  close(): void {
    for (const p of this.procs) p.disconnect();
  }
}
