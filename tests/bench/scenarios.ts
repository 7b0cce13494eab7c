// The benchmark's scenarios for one server: the same scenarios, with the same parameters, for every server.

import { newId } from '@pamoja/schema';
import type { Endpoint } from './client/conn.js';
import type { BenchArgs } from './args.js';
import type { RoomSpec } from './load/workload.js';
import type { FanoutResult } from './load/fanout.js';
import type { IngestResult } from './load/ingest.js';
import type { BundleResult, OpenResult } from './load/tablet.js';
import { cpuMicros, cpuTicks, rssAfterGc, rssBytes, startTarget, stealPercent, stopTarget, type Running } from './targets.js';
import type { Workers } from './workers.js';

export interface Figures {
  ingestPerSec: number;
  ingestAcks: number;
  ingestSent: number;
  cpuUsPerUpdate: number;
  manyP50: number;
  manyP99: number;
  manyDelivered: number;
  /** The server's CPU during the counted many-rooms runs (median, percent of one core). */
  manyServerCpu: number;
  /** Every counted fan-out run's figures (the table shows the medians of p50 and p99). */
  manyRuns: RunFigures[];
  hotRuns: RunFigures[];
  /** Runs measured again because of steal (not in the medians). */
  manySetAside: RunFigures[];
  hotSetAside: RunFigures[];
  rssManyMB: number;
  rssManyPeakMB: number;
  /** RSS after a full collection with the many-rooms connections still open: what they hold. */
  rssManyHeldMB: number;
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
  /** The median of COLD_STARTS restarts on the same data. */
  coldStartMs: number;
  coldStartRunsMs: number[];
}

/** Restarts timed for the cold-start figure: one run once took 1.6 s against 0.2 s in every other. */
const COLD_STARTS = 3;

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

type FanoutKind = 'many' | 'hot';

/** Measured part of a warm-up run (after its own warm-up of at least 3 s). */
const WARMUP_RUN_MS = 3000;

/** What the results file keeps of each run (delivery is one figure for all of a scenario's runs). */
type RunFigures = Omit<FanoutRun, 'delivered' | 'lateMs' | 'closed' | 'superseded' | 'missed'>;

const runFigures = ({ delivered: _, lateMs: _l, closed: _c, superseded: _s, missed: _m, ...r }: FanoutRun): RunFigures => r;

/** One measured fan-out run, with what disturbed it from outside the server. */
export interface FanoutRun {
  p50: number;
  p99: number;
  samples: number;
  delivered: number;
  /** How long after the last send the last measured message arrived (worst load process, ms). */
  lateMs: number;
  /** Connections the server closed during the run, by `code reason`. */
  closed: Record<string, number>;
  /** Share of the samples brought by a later set of the same writer (the server applied them together). */
  superseded: number;
  /** Receivers that missed one of a writer's updates. */
  missed: number;
  /** The load processes' own event-loop delay while measuring (worst of them, ms). */
  loadLoopP99: number;
  loadLoopMax: number;
  /** Percent of the machine's CPU time the hypervisor gave to other guests during the run. */
  steal: number | null;
  /** The server's CPU time over the run (warm-up, measuring and the last arrivals), in percent of one core. */
  serverCpu: number;
}

/** Times a round of fan-out runs is measured again when the machine's steal was above `--max-steal`. */
export const STEAL_RETRIES = 2;

/** A run the hypervisor left alone enough to count (steal that cannot be read counts as none). */
export const isQuiet = (run: Pick<FanoutRun, 'steal'>, maxSteal: number): boolean => run.steal === null || run.steal <= maxSteal;

/**
 * Which of a run's tries counts: the first whose steal (the share of the machine's CPU time the
 * hypervisor gave to other guests meanwhile) is at most `maxSteal` percent, else the one with the
 * least. Decided on steal alone, never on the figures, and the same for every server.
 */
export function keptTry(tries: Pick<FanoutRun, 'steal'>[], maxSteal: number): number {
  const quiet = tries.findIndex((t) => isQuiet(t, maxSteal));
  if (quiet >= 0) return quiet;
  let best = 0;
  tries.forEach((t, i) => {
    if ((t.steal ?? 0) < (tries[best]!.steal ?? 0)) best = i;
  });
  return best;
}

function describeRun(r: FanoutRun): string {
  const closed = Object.entries(r.closed).map(([why, n]) => `${n} closed with ${why}`).join(', ');
  const late = r.lateMs > 500 ? `, the last ${r.lateMs.toFixed(0)} ms after the last send` : '';
  const superseded = r.superseded > 0 ? `, ${(r.superseded * 100).toFixed(1)}% with a later value` : '';
  const missed = r.missed > 0 ? `, ${r.missed} receivers missed a writer's update` : '';
  return `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.samples} samples, ${(r.delivered * 100).toFixed(1)}% delivered`
    + `${superseded}${missed}${late}${closed ? `, ${closed}` : ''}; `
    + `load processes' loop delay p99 ${r.loadLoopP99.toFixed(1)} ms (max ${r.loadLoopMax.toFixed(1)}); `
    + `CPU steal ${r.steal === null ? 'n/a' : `${r.steal.toFixed(1)}%`}; server CPU ${r.serverCpu.toFixed(0)}%`;
}

/** One fan-out scenario on one server: its rooms, and its runs so far. */
interface FanoutSession {
  kind: FanoutKind;
  rooms: RoomSpec[];
  perRoom: number;
  params: { rate: number; durationMs: number; warmupMs: number; writersPerRoom: number };
  runs: FanoutRun[];
  /** Runs measured again because the hypervisor took too much of the machine meanwhile (see keptTry). */
  setAside: FanoutRun[];
  /** Many rooms: RSS sampled every 100 ms while the connections are open; the peak is kept. */
  sampler: NodeJS.Timeout | null;
  peak: number;
}

/**
 * One server's benchmark, scenario by scenario. run.ts calls the fan-out scenarios of all servers
 * interleaved (run 1 of each server, then run 2 of each, ...), so a slow minute on a shared machine
 * lands on every server instead of on whichever was running then; the other scenarios run one server
 * after the other.
 */
export class TargetBench {
  readonly f: Partial<Figures> = {};
  private pid: number;

  private constructor(
    public run: Running,
    private readonly w: Workers,
    private readonly a: BenchArgs,
    private readonly log: (s: string) => void,
    private readonly ep: Endpoint,
    private readonly rooms: Rooms,
  ) {
    this.pid = run.proc.pid!;
  }

  static async prepare(run: Running, w: Workers, a: BenchArgs, log: (s: string) => void): Promise<TargetBench> {
    let token = 'bench';
    let reception: string | null = null;
    if (run.target.pamoja) {
      const login = async (u: string): Promise<string> => (await post<{ token: string }>(run.base, null, '/api/auth/login', { username: u, password: 'demo' })).token;
      token = await login('nurse');
      reception = await login('reception');
    }
    const ep: Endpoint = { dialect: run.target.dialect, base: run.base.replace('http', 'ws'), token, pamoja: run.target.pamoja };
    return new TargetBench(run, w, a, log, ep, new Rooms(run, reception));
  }

  async memory(): Promise<void> {
    const { w, a, ep, f } = this;
    this.log('memory per idle connection and per open document');
    // Added in steps; after each, the server collects its garbage (the bench's preload) and RSS is
    // read. The figure is the slope over the steps.
    const steps = 5;
    const idleRoom = await this.rooms.make(1);
    const docRooms = await this.rooms.make(a.docs);
    // Measured on a fresh process on the same data: a heap that grew while the rooms were registered
    // would take the first connections into pages it already holds, and RSS would not move.
    await this.restart();
    await sleep(1500);
    // The first step of each kind is a warm-up (the room loads, the code paths compile) and is not in
    // the slope.
    const perStep = Math.max(1, Math.round(a.idleConns / steps));
    const connPoints: [number, number][] = [];
    for (let s = 0; s <= steps; s++) {
      await w.call(0, { cmd: 'open', ep, group: `idle${s}`, rooms: idleRoom, perRoom: perStep });
      connPoints.push([s * perStep, await rssAfterGc(this.pid)]);
    }
    const docsPerStep = Math.max(1, Math.floor(docRooms.length / (steps + 1)));
    const docPoints: [number, number][] = [];
    for (let s = 0; s <= steps; s++) {
      const slice = docRooms.slice(s * docsPerStep, (s + 1) * docsPerStep);
      await w.all(slice, (share) => ({ cmd: 'open', ep, group: `docs${s}`, rooms: share, perRoom: 1 }));
      docPoints.push([s * docsPerStep, await rssAfterGc(this.pid)]);
    }
    this.log(`  RSS MB by connections: ${connPoints.map(([x, y]) => `${x}:${(y / 2 ** 20).toFixed(1)}`).join(' ')}; by documents: ${docPoints.map(([x, y]) => `${x}:${(y / 2 ** 20).toFixed(1)}`).join(' ')}`);
    f.memPerConnKB = slope(connPoints) / 1024;
    // An open document here is a record with its one viewer's connection, in a room of its own.
    f.memPerDocKB = slope(docPoints) / 1024;
    for (let s = 0; s <= steps; s++) {
      await Promise.all([w.call(0, { cmd: 'close', group: `idle${s}` }), ...Array.from({ length: w.size }, (_, i) => w.call(i, { cmd: 'close', group: `docs${s}` }))]);
    }
    // The fan-out scenarios start from a fresh process too: the y-websocket server keeps every
    // document it opened here, which would count against it in the many-rooms memory figures.
    await this.restart();
  }

  /** Stops the server and starts it again on the same data and port (the endpoint keeps its URL). */
  private async restart(): Promise<void> {
    await stopTarget(this.run);
    this.run = await startTarget(this.run.target, this.run.dir, this.run.port);
    this.pid = this.run.proc.pid!;
  }

  /** Registers the scenario's rooms; each run then opens its connections, measures and closes them. */
  async openFanout(kind: FanoutKind): Promise<FanoutSession> {
    const { w, a } = this;
    const many = kind === 'many';
    this.log(many
      ? `fan-out: ${a.conns} connections in ${a.rooms} rooms at ${a.rate} updates/s, ${a.repeat} x ${a.duration} s`
      : `fan-out: one hot room with ${a.hotConns} connections at ${a.hotRate} updates/s, ${a.repeat} x ${a.duration} s`);
    const rooms = await this.rooms.make(many ? a.rooms : 1);
    const session: FanoutSession = {
      kind, rooms, runs: [], setAside: [], sampler: null, peak: 0,
      perRoom: many ? Math.max(2, Math.round(a.conns / a.rooms)) : a.hotConns,
      params: {
        rate: (many ? a.rate : a.hotRate) / Math.min(w.size, rooms.length), durationMs: a.duration * 1000,
        warmupMs: Math.min(3000, a.duration * 200), writersPerRoom: 7,
      },
    };
    // RSS at one instant depends on where the garbage collector happens to be (every server's heap
    // grows between full collections); the peak over the runs is what a machine must have.
    if (many) session.sampler = setInterval(() => (session.peak = Math.max(session.peak, rssBytes(this.pid))), 100);
    return session;
  }

  /** One short run that is logged but not counted (see run.ts). */
  async fanoutWarmup(s: FanoutSession): Promise<void> {
    const run = await this.measureFanout(s, true);
    await this.closeConns(s);
    this.log(`  ${s.kind} warm-up run (not counted): ${describeRun(run)}`);
  }

  /**
   * One try of the scenario's next run. After the last round's tries of the many-rooms run, the
   * memory figures are read with its connections still open (the last try's reading stays).
   */
  async fanoutTry(s: FanoutSession, label: string): Promise<FanoutRun> {
    const run = await this.measureFanout(s, false);
    this.log(`  ${s.kind} ${label}: ${describeRun(run)}`);
    if (s.kind === 'many' && s.runs.length === this.a.repeat - 1) {
      this.f.rssManyMB = rssBytes(this.pid) / 2 ** 20;
      // After the samples are in: the collection pauses only this server, with no load running.
      this.f.rssManyHeldMB = (await rssAfterGc(this.pid)) / 2 ** 20;
    }
    await this.closeConns(s);
    return run;
  }

  /** Counts one of a round's tries as the scenario's next run (keptTry), the others set aside. */
  keepRun(s: FanoutSession, tries: FanoutRun[]): void {
    const k = keptTry(tries, this.a.maxSteal);
    tries.forEach((t, i) => (i === k ? s.runs.push(t) : s.setAside.push(t)));
    if (tries.length > 1) this.log(`  ${s.kind} run ${s.runs.length}/${this.a.repeat} is try ${k + 1} of ${tries.length}`);
  }

  private async closeConns(s: FanoutSession): Promise<void> {
    await Promise.all(Array.from({ length: this.w.size }, (_, i) => this.w.call(i, { cmd: 'close', group: s.kind })));
  }

  /**
   * Opens the scenario's connections and measures one run (warm-up, then the measured part); the
   * caller closes the connections.
   * Only the running server has connections: idle clients still renew their presence every 15 s
   * (stock y-websocket behaviour), which would put other servers' work on the measured core.
   */
  private async measureFanout(s: FanoutSession, warmup: boolean): Promise<FanoutRun> {
    const { w, ep } = this;
    await w.all(s.rooms, (share) => ({ cmd: 'open', ep, group: s.kind, rooms: share, perRoom: s.perRoom }));
    const params = warmup ? { ...s.params, durationMs: Math.min(s.params.durationMs, WARMUP_RUN_MS) } : s.params;
    const ticks = cpuTicks();
    const cpu0 = cpuMicros(this.pid);
    const t0 = performance.now();
    const results = (await w.all<FanoutResult, RoomSpec>(s.rooms, () => ({ cmd: 'fanout', group: s.kind, params }))).filter(Boolean);
    const serverCpu = ((cpuMicros(this.pid) - cpu0) / 1000 / (performance.now() - t0)) * 100;
    const steal = stealPercent(ticks, cpuTicks());
    const samples = results.flatMap((x) => x.samples).sort((a, b) => a - b);
    const expected = results.reduce((sum, x) => sum + x.expected, 0);
    const closed: Record<string, number> = {};
    for (const [why, n] of results.flatMap((x) => Object.entries(x.closed))) closed[why] = (closed[why] ?? 0) + n;
    return {
      p50: pct(samples, 50), p99: pct(samples, 99), samples: samples.length, delivered: expected ? samples.length / expected : NaN,
      lateMs: Math.max(0, ...results.map((x) => x.drainedMs)), closed,
      superseded: samples.length ? results.reduce((sum, x) => sum + x.superseded, 0) / samples.length : 0,
      missed: results.reduce((sum, x) => sum + x.missed, 0),
      loadLoopP99: Math.max(...results.map((x) => x.loopP99)), loadLoopMax: Math.max(...results.map((x) => x.loopMax)), steal,
      serverCpu,
    };
  }

  /** The figures: the medians of the runs' p50 and p99. */
  closeFanout(s: FanoutSession): void {
    if (s.sampler) clearInterval(s.sampler);
    const p50 = median(s.runs.map((x) => x.p50));
    const p99 = median(s.runs.map((x) => x.p99));
    const delivered = Math.min(...s.runs.map((x) => x.delivered));
    const runs = s.runs.map(runFigures);
    const setAside = s.setAside.map(runFigures);
    if (s.kind === 'many') {
      Object.assign(this.f, { manyP50: p50, manyP99: p99, manyDelivered: delivered, manyRuns: runs, manySetAside: setAside });
      this.f.manyServerCpu = median(s.runs.map((x) => x.serverCpu));
      this.f.rssManyPeakMB = Math.max(s.peak, (this.f.rssManyMB ?? 0) * 2 ** 20) / 2 ** 20;
    } else {
      Object.assign(this.f, { hotP50: p50, hotP99: p99, hotDelivered: delivered, hotRuns: runs, hotSetAside: setAside });
    }
  }

  async ingest(): Promise<void> {
    const { w, a, ep } = this;
    this.log(`ingest: ${a.writers} writers x ${a.updates} small map updates`);
    const ingestRooms = await this.rooms.make(a.writers);
    await sleep(1000);
    const cpu0 = cpuMicros(this.pid);
    const ing = (await w.all<IngestResult, RoomSpec>(ingestRooms, (share) => ({ cmd: 'ingest', ep, rooms: share, updates: a.updates }))).filter(Boolean);
    await sleep(2500); // debounced stores (Hocuspocus) and snapshots land inside the CPU window
    const cpu1 = cpuMicros(this.pid);
    const sent = ing.reduce((s, r) => s + r.sent, 0);
    const t0 = Math.min(...ing.map((r) => r.t0));
    const t1 = Math.max(...ing.map((r) => r.t1));
    Object.assign(this.f, { ingestPerSec: sent / ((t1 - t0) / 1000), ingestSent: sent, ingestAcks: ing.reduce((s, r) => s + r.acks, 0), cpuUsPerUpdate: (cpu1 - cpu0) / sent });
  }

  async bundle(): Promise<void> {
    this.log(`offline tablet: ${this.a.bundleEdits}-edit bundle, three times`);
    const bundles: BundleResult[] = [];
    for (const room of await this.rooms.make(3)) bundles.push(await this.w.call<BundleResult>(0, { cmd: 'bundle', ep: this.ep, room, edits: this.a.bundleEdits }));
    bundles.sort((x, y) => x.ms - y.ms);
    Object.assign(this.f, { bundleMs: bundles[1]!.ms, bundleBytes: bundles[1]!.bytes });
  }

  async large(): Promise<void> {
    const { w, a, ep, f } = this;
    this.log(`large record: ${a.largeEdits} edits, then opened from disk and from memory`);
    const [large] = await this.rooms.make(1);
    const keepsNothing = this.run.target.name.startsWith('y-websocket'); // forgets a document once its last client leaves
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

  async coldStart(): Promise<void> {
    this.log(`cold start (restart on the same data, median of ${COLD_STARTS})`);
    const runs: number[] = [];
    for (let i = 0; i < COLD_STARTS; i++) {
      await this.restart();
      runs.push(Math.round(this.run.startMs));
    }
    this.log(`  runs: ${runs.join(', ')} ms`);
    this.f.coldStartRunsMs = runs;
    this.f.coldStartMs = median(runs);
  }
}
