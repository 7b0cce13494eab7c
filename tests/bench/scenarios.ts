// One target's whole benchmark: the same scenarios in the same order for every server.

import { newId } from '@pamoja/schema';
import type { Endpoint } from './client/conn.js';
import type { BenchArgs } from './args.js';
import type { RoomSpec } from './load/workload.js';
import type { FanoutResult } from './load/fanout.js';
import type { IngestResult } from './load/ingest.js';
import type { BundleResult, OpenResult } from './load/tablet.js';
import { cpuMicros, rssAfterGc, rssBytes, startTarget, stopTarget, type Running } from './targets.js';
import type { Workers } from './workers.js';

export interface Figures {
  ingestPerSec: number;
  ingestAcks: number;
  ingestSent: number;
  cpuUsPerUpdate: number;
  manyP50: number;
  manyP99: number;
  manyDelivered: number;
  /** Every fan-out run's p50/p99 (the table shows the medians). */
  manyRuns: { p50: number; p99: number }[];
  hotRuns: { p50: number; p99: number }[];
  rssManyMB: number;
  rssManyPeakMB: number;
  hotP50: number;
  hotP99: number;
  hotDelivered: number;
  bundleMs: number;
  bundleBytes: number;
  openColdMs: number | null;
  openWarmMs: number;
  largeBytes: number;
  memPerDocKB: number;
  memPerConnKB: number;
  coldStartMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function post<T>(base: string, token: string | null, p: string, body: unknown): Promise<T> {
  const r = await fetch(base + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (r.status >= 300) throw new Error(`POST ${p}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

class Rooms {
  private n = 0;
  constructor(private readonly run: Running, private readonly receptionToken: string | null) {}

  /** Pamoja: patients registered through the API. Peers: names only; the first client seeds them. */
  async make(count: number): Promise<RoomSpec[]> {
    const out: RoomSpec[] = [];
    for (let i = 0; i < count; i += 20) {
      const batch = Array.from({ length: Math.min(20, count - i) }, () => this.one());
      out.push(...(await Promise.all(batch)));
    }
    return out;
  }

  private async one(): Promise<RoomSpec> {
    const k = this.n++;
    if (!this.run.target.pamoja) return { docName: `patient:${newId()}`, visitId: newId(), seed: true };
    const p = await post<{ id: string; visitId: string }>(this.run.base, this.receptionToken, '/api/patients', {
      firstName: 'Bench', lastName: `Patient${k}`, sex: 'female', dateOfBirth: '1990-01-01', phone: `+2547${String(k).padStart(8, '0')}`,
    });
    return { docName: `patient:${p.id}`, visitId: p.visitId, seed: false };
  }
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Least-squares slope of y over x: one garbage collection moves it less than a single difference. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface FanoutFigures {
  p50: number;
  p99: number;
  delivered: number;
  runs: { p50: number; p99: number }[];
}

/** `repeat` fan-out runs over the same open connections; medians of their p50 and p99. */
async function fanoutRun(
  w: Workers, ep: Endpoint, rooms: RoomSpec[], perRoom: number, rate: number, durationS: number, repeat: number, group: string,
  log: (s: string) => void,
): Promise<FanoutFigures> {
  await w.all(rooms, (share) => ({ cmd: 'open', ep, group, rooms: share, perRoom }));
  const active = Math.min(w.size, rooms.length);
  const params = { rate: rate / active, durationMs: durationS * 1000, warmupMs: Math.min(3000, durationS * 200), writersPerRoom: 7 };
  const runs: { p50: number; p99: number; delivered: number }[] = [];
  for (let r = 0; r < repeat; r++) {
    const results = (await w.all<FanoutResult, RoomSpec>(rooms, () => ({ cmd: 'fanout', group, params }))).filter(Boolean);
    const samples = results.flatMap((x) => x.samples).sort((a, b) => a - b);
    const expected = results.reduce((s, x) => s + x.expected, 0);
    const run = { p50: pct(samples, 50), p99: pct(samples, 99), delivered: expected ? samples.length / expected : NaN };
    log(`  run ${r + 1}/${repeat}: p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, ${samples.length} samples`);
    runs.push(run);
  }
  return {
    p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)), delivered: Math.min(...runs.map((x) => x.delivered)),
    runs: runs.map(({ p50, p99 }) => ({ p50, p99 })),
  };
}

export async function benchTarget(started: Running, w: Workers, a: BenchArgs, log: (s: string) => void): Promise<{ figures: Figures; run: Running }> {
  let run = started;
  let pid = run.proc.pid!;
  let token = 'bench';
  let reception: string | null = null;
  if (run.target.pamoja) {
    const login = async (u: string): Promise<string> => (await post<{ token: string }>(run.base, null, '/api/auth/login', { username: u, password: 'demo' })).token;
    token = await login('nurse');
    reception = await login('reception');
  }
  const ep: Endpoint = { dialect: run.target.dialect, base: run.base.replace('http', 'ws'), token, pamoja: run.target.pamoja };
  const rooms = new Rooms(run, reception);
  const f: Partial<Figures> = {};
  const on = (s: string): boolean => a.scenarios.includes(s);

  if (on('memory')) {
    log('memory per idle connection and per open document');
    // Added in steps; after each, the server collects its garbage (the bench's preload) and RSS is
    // read. The figure is the slope over the steps.
    const steps = 5;
    const idleRoom = await rooms.make(1);
    const docRooms = await rooms.make(a.docs);
    // Measured on a fresh process on the same data: a heap that grew while the rooms were registered
    // would take the first connections into pages it already holds, and RSS would not move.
    await stopTarget(run);
    run = await startTarget(run.target, run.dir, run.port);
    pid = run.proc.pid!;
    await sleep(1500);
    // The first step of each kind is a warm-up (the room loads, the code paths compile) and is not in
    // the slope.
    const perStep = Math.max(1, Math.round(a.idleConns / steps));
    const connPoints: [number, number][] = [];
    for (let s = 0; s <= steps; s++) {
      await w.call(0, { cmd: 'open', ep, group: `idle${s}`, rooms: idleRoom, perRoom: perStep });
      connPoints.push([s * perStep, await rssAfterGc(pid)]);
    }
    const docsPerStep = Math.max(1, Math.floor(docRooms.length / (steps + 1)));
    const docPoints: [number, number][] = [];
    for (let s = 0; s <= steps; s++) {
      const slice = docRooms.slice(s * docsPerStep, (s + 1) * docsPerStep);
      await w.all(slice, (share) => ({ cmd: 'open', ep, group: `docs${s}`, rooms: share, perRoom: 1 }));
      docPoints.push([s * docsPerStep, await rssAfterGc(pid)]);
    }
    log(`  RSS MB by connections: ${connPoints.map(([x, y]) => `${x}:${(y / 2 ** 20).toFixed(1)}`).join(' ')}; by documents: ${docPoints.map(([x, y]) => `${x}:${(y / 2 ** 20).toFixed(1)}`).join(' ')}`);
    f.memPerConnKB = slope(connPoints) / 1024;
    // An open document here is a record with its one viewer's connection, in a room of its own.
    f.memPerDocKB = slope(docPoints) / 1024;
    for (let s = 0; s <= steps; s++) {
      await Promise.all([w.call(0, { cmd: 'close', group: `idle${s}` }), ...Array.from({ length: w.size }, (_, i) => w.call(i, { cmd: 'close', group: `docs${s}` }))]);
    }
  }

  if (on('many')) {
    log(`fan-out: ${a.conns} connections in ${a.rooms} rooms at ${a.rate} updates/s, ${a.repeat} x ${a.duration} s`);
    const manyRooms = await rooms.make(a.rooms);
    // RSS at one instant depends on where the garbage collector happens to be (every server's heap
    // grows between full collections); the peak over the run is what a machine must have.
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 100);
    const many = await fanoutRun(w, ep, manyRooms, Math.max(2, Math.round(a.conns / a.rooms)), a.rate, a.duration, a.repeat, 'many', log);
    clearInterval(sampler);
    f.rssManyMB = rssBytes(pid) / 2 ** 20;
    f.rssManyPeakMB = Math.max(peak, rssBytes(pid)) / 2 ** 20;
    await Promise.all(Array.from({ length: w.size }, (_, i) => w.call(i, { cmd: 'close', group: 'many' })));
    Object.assign(f, { manyP50: many.p50, manyP99: many.p99, manyDelivered: many.delivered, manyRuns: many.runs });
  }

  if (on('hot')) {
    log(`fan-out: one hot room with ${a.hotConns} connections at ${a.hotRate} updates/s, ${a.repeat} x ${a.duration} s`);
    const hot = await fanoutRun(w, ep, await rooms.make(1), a.hotConns, a.hotRate, a.duration, a.repeat, 'hot', log);
    await w.call(0, { cmd: 'close', group: 'hot' });
    Object.assign(f, { hotP50: hot.p50, hotP99: hot.p99, hotDelivered: hot.delivered, hotRuns: hot.runs });
  }

  if (on('ingest')) {
    log(`ingest: ${a.writers} writers x ${a.updates} small map updates`);
    const ingestRooms = await rooms.make(a.writers);
    await sleep(1000);
    const cpu0 = cpuMicros(pid);
    const ing = (await w.all<IngestResult, RoomSpec>(ingestRooms, (share) => ({ cmd: 'ingest', ep, rooms: share, updates: a.updates }))).filter(Boolean);
    await sleep(2500); // debounced stores (Hocuspocus) and snapshots land inside the CPU window
    const cpu1 = cpuMicros(pid);
    const sent = ing.reduce((s, r) => s + r.sent, 0);
    const t0 = Math.min(...ing.map((r) => r.t0));
    const t1 = Math.max(...ing.map((r) => r.t1));
    Object.assign(f, { ingestPerSec: sent / ((t1 - t0) / 1000), ingestSent: sent, ingestAcks: ing.reduce((s, r) => s + r.acks, 0), cpuUsPerUpdate: (cpu1 - cpu0) / sent });
  }

  if (on('bundle')) {
    log(`offline tablet: ${a.bundleEdits}-edit bundle, three times`);
    const bundles: BundleResult[] = [];
    for (const room of await rooms.make(3)) bundles.push(await w.call<BundleResult>(0, { cmd: 'bundle', ep, room, edits: a.bundleEdits }));
    bundles.sort((x, y) => x.ms - y.ms);
    Object.assign(f, { bundleMs: bundles[1]!.ms, bundleBytes: bundles[1]!.bytes });
  }

  if (on('large')) {
    log(`large record: ${a.largeEdits} edits, then opened from disk and from memory`);
    const [large] = await rooms.make(1);
    const keepsNothing = run.target.name.startsWith('y-websocket'); // forgets a document once its last client leaves
    const hold = (): Promise<unknown> => w.call(1 % w.size, { cmd: 'hold', ep, docName: large!.docName });
    if (keepsNothing) await hold();
    f.largeBytes = (await w.call<{ bytes: number }>(0, { cmd: 'writeLarge', ep, room: large!, edits: a.largeEdits })).bytes;
    f.openColdMs = null;
    if (!keepsNothing) {
      await sleep(4000); // past Pamoja's unload delay and Hocuspocus' store-and-unload on last disconnect
      f.openColdMs = (await w.call<OpenResult>(0, { cmd: 'openTimed', ep, docName: large!.docName })).ms;
      await hold();
    }
    f.openWarmMs = (await w.call<OpenResult>(0, { cmd: 'openTimed', ep, docName: large!.docName })).ms;
    await w.call(1 % w.size, { cmd: 'release' });
  }

  if (on('start')) {
    log('cold start (restart on the same data)');
    await stopTarget(run);
    run = await startTarget(run.target, run.dir);
    f.coldStartMs = run.startMs;
  }
  return { figures: f as Figures, run };
}
