// The servers under test, each started as its own process pinned to the server core, and what the
// benchmark reads about them from /proc (RSS, CPU time) without touching their code.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/net.js';
import { serverStartCommand } from '../helpers/start-command.js';
import type { Dialect } from './client/wire.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const PEERS = path.join(ROOT, 'tests/bench/peers');
const GC_ON_SIGNAL = path.join(ROOT, 'tests/bench/gc-on-signal.cjs');
const START = serverStartCommand();

export interface Target {
  name: string;
  dialect: Dialect;
  pamoja: boolean;
  /** Command and environment to start it on `port` with its files under `dir`. */
  command: (port: number, dir: string) => { args: string[]; env: Record<string, string> };
  /** Where a plain HTTP GET answers 200 once it serves. */
  readyPath: string;
}

const pamoja = (gate: boolean): Target => ({
  name: gate ? 'Pamoja' : 'Pamoja GATE=off',
  dialect: 'y-websocket',
  pamoja: true,
  readyPath: '/healthz',
  command: (port, dir) => ({
    args: [
      // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (see README).
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
      // As `npm start` runs it: its node flags and the bundle (built by run.ts before the first target starts).
      ...START.nodeFlags, START.entry,
    ],
    env: {
      PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn', SEED_DEMO: '1',
      GATE: gate ? 'on' : 'off', UNLOAD_DELAY_MS: '1000',
      // The load generator multiplexes a clinic's worth of clients; the per-connection budget is
      // for one human's tablet, so it is raised here (and only here).
      RATE_LIMIT_MSGS_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000',
      // Its 2,000 connections all sign in as one nurse; a clinic's would be many people.
      MAX_CONNECTIONS_PER_USER: '0',
      // The environment `npm start` sets (README "Memory").
      ...START.env,
    },
  }),
});

export const TARGETS: Target[] = [
  pamoja(true),
  pamoja(false),
  {
    name: 'y-websocket 2', dialect: 'y-websocket', pamoja: false, readyPath: '/',
    command: (port) => ({ args: [path.join(PEERS, 'ywebsocket-server.cjs')], env: { PORT: String(port), HOST: '127.0.0.1' } }),
  },
  {
    name: 'Hocuspocus 3', dialect: 'hocuspocus', pamoja: false, readyPath: '/',
    command: (port, dir) => ({
      args: [path.join(PEERS, 'hocuspocus-server.mjs')],
      env: { PORT: String(port), HOST: '127.0.0.1', DB_FILE: path.join(dir, 'hocuspocus.sqlite') },
    }),
  },
];


export const hasTaskset = ((): boolean => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return os.cpus().length > 1;
  } catch {
    return false;
  }
})();

/** Pins a command to one core when there are at least two (server core 0, load core 1). */
export function pinned(core: number, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', String(core), ...args]] : [args[0]!, args.slice(1)];
}

export interface Running {
  target: Target;
  proc: ChildProcess;
  port: number;
  dir: string;
  base: string;
  /** Milliseconds from spawn until it answered HTTP. */
  startMs: number;
}

export async function startTarget(target: Target, dir: string, port?: number): Promise<Running> {
  port ??= await freePort();
  fs.mkdirSync(dir, { recursive: true });
  const { args, env } = target.command(port, dir);
  // Every server gets the same preload: a full collection on SIGUSR2, for the memory figures.
  const [cmd, argv] = pinned(0, [process.execPath, '--expose-gc', '--require', GC_ON_SIGNAL, ...args]);
  const t0 = performance.now();
  const proc = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`${target.name} exited during start: ${stderr}`);
    if (i > 6000) throw new Error(`${target.name} did not start within 60 s: ${stderr}`);
    try {
      const r = await fetch(base + target.readyPath);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { target, proc, port, dir, base, startMs: performance.now() - t0 };
}

export async function stopTarget(r: Running): Promise<void> {
  // Already gone: exited on its own, or stopped by a signal (then exitCode stays null).
  if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  const done = new Promise((res) => r.proc.once('exit', res));
  r.proc.kill('SIGTERM');
  const t = setTimeout(() => r.proc.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** User + system CPU time of the process (all threads), in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

/** RSS after asking the server for a full garbage collection (the bench's preload; see gc-on-signal.cjs). */
export async function rssAfterGc(pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 500));
  return rssBytes(pid);
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * The machine's CPU time so far, in clock ticks: all of it and the part the hypervisor gave to
 * other guests ("steal"), summed over every core. Null where /proc/stat is missing.
 */
export function cpuTicks(): { total: number; steal: number } | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  } catch {
    return null;
  }
}

/** Percent of the CPU time between two readings that went to other guests. */
export function stealPercent(a: ReturnType<typeof cpuTicks>, b: ReturnType<typeof cpuTicks>): number | null {
  if (!a || !b || b.total <= a.total) return null;
  return (100 * (b.steal - a.steal)) / (b.total - a.total);
}
