// The soak engine: clients come and go across many records for minutes at a steady edit rate while
// the server's RSS (/proc), its own event-loop lag (from its metrics) and responsiveness (/healthz
// round trip, which waits behind the event loop) are sampled; afterwards every record must be unloaded once its clients are gone.
//
// Patients come and go too, as in a clinic's day: every record is edited for a while (`recordLife`
// seconds on average), then a newly registered patient takes its place. A record that were edited
// for ever would grow for ever (every edit stays in it), and the memory of records held open would
// grow with it; with patients turning over, what the open records hold levels off and a server that
// keeps nothing it should not stays flat. Memory is also read the way it is left: after a full
// garbage collection (the bench's preload, on SIGUSR2) with no one connected and every record
// unloaded, before the clients come and after they have gone, and object by object in heap
// snapshots: V8's own heap total also grows with the code it compiles under load.
//
// Whose is a stall? Beside each window an idle process's own event-loop delay and the kernel's steal
// and pressure counters are read (machine.ts): a stall the idle process shares is the machine's. With
// `kernelWaits`, a helper also reads what the server's main thread waits for in the kernel.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FaultClient } from './fault-client.js';
import { ServerProc } from './server-proc.js';
import { randomEdit } from './random-edits.js';
import { lcg } from './util.js';
import { liveBytes } from './heap-snapshot.js';
import { countersSince, readCounters, startLoopProbe, watchKernelWaits, type KernelWaitWatch, type LoopProbe, type MachineCounters } from './machine.js';

export interface SoakOptions {
  seconds: number;
  clients: number;
  rooms: number;
  /** Edits per second, all clients together. */
  rate: number;
  /** Seconds a client stays in a room before moving to another one. */
  stay: number;
  sampleMs: number;
  seed: number;
  /** Seconds a record is edited, on average, before a new patient takes its place (0: the same records throughout). */
  recordLife: number;
  /** Also watch what the server's main thread waits for in the kernel (machine.ts; stacks need root). */
  kernelWaits?: boolean;
}

export interface SoakSample {
  t: number;
  rssMB: number;
  healthMs: number;
  /** The server's event-loop delay since the previous sample (its monitorEventLoopDelay, via /admin/metrics). */
  lagP99Ms: number;
  lagMaxMs: number;
  rooms: number;
  connections: number;
  /** An idle process's own event-loop delay over the same window (machine.ts): a stall it shares is the machine's. */
  probeMaxMs: number;
  /** What the kernel counted over the window (ms): time lost to the host, and stalls on CPU, disk and memory. */
  machine: MachineCounters;
  /** With `kernelWaits`: time the server's main thread slept waiting on the disk, its longest wait, and where. */
  diskWaitMs?: number;
  diskWaitLongestMs?: number;
  diskWaitLongestStack?: string | null;
}

export interface SoakReport {
  edits: number;
  samples: SoakSample[];
  /** Mean RSS of the last third over the mean of the middle third (after warm-up). */
  rssGrowth: number;
  healthP99Ms: number;
  /** The worst per-sample p99 and max of the server's event-loop delay. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** Windows in which the server's loop was held up past STALL_MS, and how many of them the idle probe's was too (past PROBE_STALL_MS). */
  stalls: number;
  stallsShared: number;
  roomsAfter: number;
  roomsAtPeak: number;
  /** Records registered in all, the first ones included. */
  patients: number;
  /** What the server held after a full collection with nobody connected and no record loaded: before the clients came, and after they left. */
  heldBefore: Held;
  heldAfter: Held;
  /** Live objects and compiled code in heap snapshots (MB): before (the first process, before it restarted), and after. */
  objectsBefore: { objects: number; code: number };
  objectsAfter: { objects: number; code: number };
  /** With `kernelWaits`: the kernel stacks the server's main thread waited on the disk in, most time first (ms, estimated). */
  diskWaits?: { stack: string; ms: number }[];
}

/** The resolution of the server's event-loop delay monitor (apps/sync-server/src/admin/metrics.ts). */
const MONITOR_TICK_MS = 10;
/** A window whose longest event-loop delay is past this held a stall. */
export const STALL_MS = 200;
/** With `kernelWaits`, a window whose longest wait on the disk is this long says where it was. */
const LONG_DISK_WAIT_MS = 50;
/** The idle probe took part in a stall if its own loop was held up this long in the same window. */
export const PROBE_STALL_MS = 100;

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const GC_ON_SIGNAL = path.resolve(import.meta.dirname, '../../bench/gc-on-signal.cjs');

/** What the server holds once it has run a full collection (it runs one on SIGUSR2), in MB. */
export interface Held {
  /** The process's resident memory, just after the collection. */
  rss: number;
  /** The JavaScript heap in use, by V8's count (compiled code included). */
  heap: number;
  /** Memory outside the heap held for JavaScript objects (Buffers and the like), which is given back lazily. */
  external: number;
}

/** Node writes a heap snapshot on this signal (--heapsnapshot-signal); the server has no other use for it. */
const SNAPSHOT_SIGNAL = 'SIGWINCH';

const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

async function waitForFile(file: string, what: string): Promise<void> {
  const end = Date.now() + 60_000;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`the server wrote no ${what} within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function held(pid: number, report: string): Promise<Held> {
  fs.rmSync(report, { force: true });
  process.kill(pid, 'SIGUSR2');
  await waitForFile(report, 'memory report');
  const m = JSON.parse(fs.readFileSync(report, 'utf8')) as { heapUsed: number; external: number; rss: number };
  return { rss: mb(m.rss), heap: mb(m.heapUsed), external: mb(m.external) };
}

/**
 * Live objects and compiled code in a heap snapshot of the server (node's --heapsnapshot-signal), in
 * MB. Making one takes memory that the process keeps for a while: RSS read after it means little.
 */
async function snapshot(pid: number, dir: string): Promise<{ objects: number; code: number }> {
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  process.kill(pid, SNAPSHOT_SIGNAL);
  const end = Date.now() + 60_000;
  let file = '';
  while (!file) {
    if (Date.now() > end) throw new Error('the server wrote no heap snapshot within 60 s');
    await new Promise((r) => setTimeout(r, 200));
    const [f] = fs.readdirSync(dir).filter((x) => x.endsWith('.heapsnapshot'));
    if (!f) continue;
    // Node writes the file in place: it is whole once its size stops changing.
    const size = fs.statSync(path.join(dir, f)).size;
    await new Promise((r) => setTimeout(r, 500));
    if (size > 0 && fs.statSync(path.join(dir, f)).size === size) file = path.join(dir, f);
  }
  const live = liveBytes(file);
  fs.rmSync(file);
  return { objects: mb(live.objects), code: mb(live.code) };
}

export async function soakRun(o: SoakOptions, log: (s: string) => void = () => {}): Promise<SoakReport> {
  const rand = lcg(o.seed);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pamoja-soak-'));
  const report = path.join(scratch, 'gc.json');
  const snapshots = path.join(scratch, 'snapshots');
  fs.mkdirSync(snapshots);
  const server = await ServerProc.create(
    { RATE_LIMIT_MSGS_PER_SEC: '1000', UNLOAD_DELAY_MS: '1000', GC_REPORT_FILE: report },
    ['--expose-gc', '--require', GC_ON_SIGNAL, `--heapsnapshot-signal=${SNAPSHOT_SIGNAL}`, `--diagnostic-dir=${snapshots}`],
  );
  const clients: { c: FaultClient; visitId: string; since: number }[] = [];
  let probe: LoopProbe | null = null;
  let kernel: KernelWaitWatch | null = null;
  const diskWaits = new Map<string, number>();
  try {
    const nurse = await server.login('nurse');
    const reception = await server.login('reception');
    const admin = await server.login('admin');
    const lag = async (): Promise<{ p99: number; max: number }> => {
      const text = await (await fetch(`${server.base}/admin/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
      // The monitor ticks every 10 ms and records whole tick intervals: the delay is the excess.
      const read = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000 - MONITOR_TICK_MS;
      return { p99: read('pamoja_nodejs_eventloop_lag_p99_seconds'), max: read('pamoja_nodejs_eventloop_lag_max_seconds') };
    };
    await lag(); // starts the server's window
    const rooms: { id: string; visitId: string }[] = [];
    let patients = 0;
    for (let i = 0; i < o.rooms; i++) rooms.push(await server.newPatient(reception, patients++));
    const roomsNow = async (): Promise<number> => ((await (await fetch(`${server.base}/healthz`)).json()) as { rooms: number }).rooms;
    /** Waits up to 15 s for every record to unload; the records still loaded. */
    const unloaded = async (): Promise<number> => {
      const end = Date.now() + 15_000;
      let n = await roomsNow();
      while (n > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
        n = await roomsNow();
      }
      return n;
    };
    await unloaded(); // registering opened each record
    // What the server holds idle, object by object. The snapshot takes memory the process keeps, so
    // the run itself goes on a fresh process on the same data, whose RSS is then sampled.
    const objectsBefore = await snapshot(server.proc!.pid!, snapshots);
    await server.kill('SIGTERM');
    await server.start();
    await lag();
    const heldBefore = await held(server.proc!.pid!, report);
    log(`held before: live objects ${objectsBefore.objects} MB, compiled code ${objectsBefore.code} MB (heap snapshot); `
      + `restarted: RSS ${heldBefore.rss} MB, V8 heap ${heldBefore.heap} MB, external ${heldBefore.external} MB (full collection, no one connected, no record loaded)`);
    const join = (): { c: FaultClient; visitId: string; since: number } => {
      const room = rooms[Math.floor(rand() * rooms.length)]!;
      const c = new FaultClient(server.base, `patient:${room.id}`, nurse);
      c.connect();
      return { c, visitId: room.visitId, since: Date.now() };
    };
    for (let i = 0; i < o.clients; i++) clients.push(join());
    const samples: SoakSample[] = [];
    probe = await startLoopProbe();
    if (o.kernelWaits) kernel = await watchKernelWaits(server.proc!.pid!);
    let windowStart = performance.now();
    let counters = readCounters();
    const t0 = Date.now();
    let edits = 0;
    let nextSample = 0;
    let roomsAtPeak = 0;
    // One patient leaves and another is registered every recordLife / rooms seconds.
    const turnoverMs = o.recordLife > 0 ? (o.recordLife * 1000) / o.rooms : Infinity;
    let nextTurnover = turnoverMs;
    while (Date.now() - t0 < o.seconds * 1000) {
      while (Date.now() - t0 >= nextTurnover) {
        nextTurnover += turnoverMs;
        rooms[Math.floor(rand() * rooms.length)] = await server.newPatient(reception, patients++);
      }
      const due = Math.floor(((Date.now() - t0) / 1000) * o.rate) - edits;
      for (let k = 0; k < due; k++) {
        const x = clients[Math.floor(rand() * clients.length)]!;
        if (x.c.synced) x.c.edit(`s${edits}`, (doc) => randomEdit(doc, x.visitId, 'nurse', () => rand() * 0.9));
        edits++;
      }
      for (const [i, x] of clients.entries()) {
        if (Date.now() - x.since > o.stay * 1000 * (0.5 + rand())) {
          void x.c.stop();
          x.c.doc.destroy();
          clients[i] = join();
        }
      }
      if (Date.now() - t0 >= nextSample) {
        nextSample += o.sampleMs;
        const t = performance.now();
        const h = (await (await fetch(`${server.base}/healthz`)).json()) as { rooms: number; connections: number };
        const healthMs = Math.round((performance.now() - t) * 10) / 10;
        const l = await lag();
        const p = await probe.read();
        const now = readCounters();
        const machine = countersSince(counters, now);
        counters = now;
        const k = kernel ? await kernel.read() : null;
        const windowMs = performance.now() - windowStart;
        windowStart = performance.now();
        if (k) for (const x of k.stacks) diskWaits.set(x.stack, (diskWaits.get(x.stack) ?? 0) + (x.samples / Math.max(1, k.samples)) * windowMs);
        const s: SoakSample = {
          t: Math.round((Date.now() - t0) / 1000), rssMB: Math.round(rss(server.proc!.pid!) * 10) / 10, healthMs,
          lagP99Ms: Math.round(l.p99 * 10) / 10, lagMaxMs: Math.round(l.max * 10) / 10, rooms: h.rooms, connections: h.connections,
          probeMaxMs: Math.round(p.max * 10) / 10, machine,
          ...(k ? { diskWaitMs: Math.round(k.share * windowMs), diskWaitLongestMs: k.longestMs, diskWaitLongestStack: k.longestStack } : {}),
        };
        roomsAtPeak = Math.max(roomsAtPeak, h.rooms);
        samples.push(s);
        const counted = Object.entries(machine).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}ms`).join(' ');
        const disk = k ? ` disk wait=${s.diskWaitMs}ms longest=${s.diskWaitLongestMs}ms` : '';
        log(`t=${s.t}s rss=${s.rssMB}MB healthz=${s.healthMs}ms loop lag p99=${s.lagP99Ms}ms max=${s.lagMaxMs}ms probe max=${s.probeMaxMs}ms ${counted}${disk} `
          + `rooms=${s.rooms} connections=${s.connections} edits=${edits} patients=${patients}`);
        if (k && (s.lagMaxMs > STALL_MS || k.longestMs >= LONG_DISK_WAIT_MS)) {
          if (k.longestStack === null) log('  stalled, without the main thread waiting on the disk: it was busy, or not given the CPU');
          else log(`  the main thread's longest wait on the disk (${k.longestMs} ms) was in ${k.longestStack}`);
          if (k.longestOthers) log(`  meanwhile another thread of the server waited in ${k.longestOthers}`);
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    probe.stop();
    kernel?.stop();
    await Promise.all(clients.map((x) => x.c.stop()));
    const roomsAfter = await unloaded();
    const heldAfter = await held(server.proc!.pid!, report);
    const objectsAfter = await snapshot(server.proc!.pid!, snapshots);
    log(`held after: live objects ${objectsAfter.objects} MB, compiled code ${objectsAfter.code} MB (heap snapshot); `
      + `RSS ${heldAfter.rss} MB, V8 heap ${heldAfter.heap} MB, external ${heldAfter.external} MB (full collection, everyone gone, ${roomsAfter} records loaded)`);
    const third = Math.max(1, Math.floor(samples.length / 3));
    const mean = (a: SoakSample[]): number => a.reduce((s, x) => s + x.rssMB, 0) / Math.max(1, a.length);
    const health = samples.map((s) => s.healthMs).sort((a, b) => a - b);
    const stalled = samples.filter((s) => s.lagMaxMs > STALL_MS);
    return {
      edits, samples, rssGrowth: mean(samples.slice(-third)) / mean(samples.slice(third, 2 * third)),
      healthP99Ms: health[Math.min(health.length - 1, Math.floor(health.length * 0.99))] ?? 0, roomsAfter, roomsAtPeak,
      lagP99Ms: Math.max(...samples.map((x) => x.lagP99Ms)), lagMaxMs: Math.max(...samples.map((x) => x.lagMaxMs)),
      stalls: stalled.length, stallsShared: stalled.filter((s) => s.probeMaxMs > PROBE_STALL_MS).length,
      patients, heldBefore, heldAfter, objectsBefore, objectsAfter,
      ...(kernel ? { diskWaits: [...diskWaits.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([stack, ms]) => ({ stack, ms: Math.round(ms) })) } : {}),
    };
  } finally {
    probe?.stop();
    kernel?.stop();
    await Promise.all(clients.map((x) => x.c.stop()));
    await server.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
