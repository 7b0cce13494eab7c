// What the machine did around a process, so a stall seen in the server can be told from one of the
// machine: an idle probe process's own event-loop delay, and the kernel's counters of time lost to
// the host (steal), to waiting on the disk and to contention (pressure stall information, where the
// kernel has it).

import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The kernel's cumulative counters, in ms; null where this kernel does not give one. */
export interface MachineCounters {
  /** Time the host ran something else while this machine's CPUs wanted to run (all CPUs together). */
  steal: number | null;
  /** Time some task waited for the CPU / all tasks waited for the disk (pressure stall information). */
  cpuSome: number | null;
  ioFull: number | null;
  memSome: number | null;
}

/** Clock ticks per second of /proc/stat's counters (USER_HZ, 100 on Linux everywhere in practice). */
const USER_HZ = 100;

function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The `total=` of one line of a /proc/pressure file, in ms. */
function pressure(kind: 'cpu' | 'io' | 'memory', line: 'some' | 'full'): number | null {
  const text = readOr(`/proc/pressure/${kind}`);
  const m = text && new RegExp(`^${line} .*total=(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) / 1000 : null;
}

export function readCounters(): MachineCounters {
  const cpu = readOr('/proc/stat')?.split('\n')[0]?.trim().split(/\s+/);
  // cpu user nice system idle iowait irq softirq steal ...
  const steal = cpu && cpu[0] === 'cpu' && cpu[8] !== undefined ? (Number(cpu[8]) * 1000) / USER_HZ : null;
  return { steal, cpuSome: pressure('cpu', 'some'), ioFull: pressure('io', 'full'), memSome: pressure('memory', 'some') };
}

/** What each counter grew by from `a` to `b`, rounded to ms. */
export function countersSince(a: MachineCounters, b: MachineCounters): MachineCounters {
  const d = (x: number | null, y: number | null): number | null => (x === null || y === null ? null : Math.round(y - x));
  return { steal: d(a.steal, b.steal), cpuSome: d(a.cpuSome, b.cpuSome), ioFull: d(a.ioFull, b.ioFull), memSome: d(a.memSome, b.memSome) };
}

/** A helper process that answers each 'read' message with what it saw since the last one. */
class Witness<T> {
  private constructor(private readonly child: ChildProcess) {}

  static async start<T>(script: string, args: string[] = []): Promise<Witness<T>> {
    // Plain node: the helpers are CommonJS and need none of the parent's loaders.
    const child = fork(path.join(import.meta.dirname, script), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const w = new Witness<T>(child);
    await w.read(); // starts its first window
    return w;
  }

  get pid(): number {
    return this.child.pid!;
  }

  read(): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the helper process did not answer within 10 s`)), 10_000);
      this.child.once('message', (m) => {
        clearTimeout(t);
        resolve(m as T);
      });
      this.child.send('read');
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.kill();
  }
}

/** An idle process beside the server that measures only its own event-loop delay (loop-probe.cjs): ms beyond its 10 ms tick. */
export type LoopProbe = Witness<{ p99: number; max: number }>;
export const startLoopProbe = (): Promise<LoopProbe> => Witness.start('loop-probe.cjs');

/** What the server's main thread waited for in the kernel over a window (kernel-waits.cjs). */
export interface KernelWaits {
  /** Share of the window it spent in uninterruptible sleep (waiting on the disk). */
  share: number;
  /** How many times it looked (about every 2 ms). */
  samples: number;
  /** The longest such wait, and the kernel stack most seen in it (innermost first). */
  longestMs: number;
  longestStack: string | null;
  /** The stack most seen among the process's other threads waiting in the kernel during that wait (who held it up, often). */
  longestOthers: string | null;
  /** The stacks most waited in, with how many looks found the thread there. */
  stacks: { stack: string; samples: number }[];
}
export type KernelWaitWatch = Witness<KernelWaits>;
/** Watches the main thread of `pid`; the kernel stacks need root, the rest does not. */
export const watchKernelWaits = (pid: number): Promise<KernelWaitWatch> => Witness.start('kernel-waits.cjs', [String(pid)]);
