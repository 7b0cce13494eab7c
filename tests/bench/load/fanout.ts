// Fan-out latency: writers set a vital sign to the current time at a steady total rate; every other
// connection in the room measures how long the change took to reach it through the server.
//
// Receivers read the timestamp out of each update as it arrives and do not apply it to their copy of
// the record. Applied, every update stayed in the 2,000 copies the load processes hold, and their
// young-generation collections (which copy what is still alive) took more than 1% of each run: the
// p99 printed was then mostly the load processes' own pauses, for every server alike (README,
// "Benchmark"). Each writer only sets its own key, so its copy needs nobody else's updates. For the
// same reason a writer's sets after its first are encoded without its copy (KeySetter).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { KeySetter, TIMED_KEYS, encodeTs, latencyMs, nowMs, timestampsIn, vitals } from './workload.js';
import type { OpenRoom } from './rooms.js';

/** Time between the load process's full collection and the start of measuring. */
const SETTLE_MS = 500;

export interface FanoutParams {
  /** Updates per second this process sends, spread over its writers. */
  rate: number;
  /** How long to measure, after the warm-up. */
  durationMs: number;
  /** Shortest warm-up; longer when the writers need more time for one edit each. */
  warmupMs: number;
  /** Writers per room (at most one per timed key). */
  writersPerRoom: number;
}

export interface FanoutResult {
  sent: number;
  expected: number;
  samples: number[];
  /** This load process's own event-loop delay while measuring (ms): its stalls are in the samples too. */
  loopP99: number;
  loopMax: number;
}

export async function fanout(rooms: OpenRoom[], p: FanoutParams): Promise<FanoutResult> {
  let measureFrom = Infinity;
  const samples: number[] = [];
  let expected = 0;
  const writers: { set: (v: number) => void; receivers: number }[] = [];
  const offs: (() => void)[] = [];
  for (const room of rooms) {
    room.conns.forEach((c, i) => {
      c.onRemote = (update) => {
        const at = nowMs();
        if (at < measureFrom) return;
        for (const v of timestampsIn(update, c.doc.clientID)) samples.push(latencyMs(v, at));
      };
      offs.push(() => (c.onRemote = null));
      if (i < Math.min(p.writersPerRoom, TIMED_KEYS.length)) {
        const key = TIMED_KEYS[i]!;
        const map = vitals(c.doc, room.spec.visitId);
        // The first set goes through the writer's copy of the record; later ones are encoded alone.
        let setter: KeySetter | null = null;
        const set = (v: number): void => {
          if (setter) {
            c.sendUpdate(setter.set(v));
            return;
          }
          map.set(key, v);
          setter = new KeySetter(c.doc, map, key);
        };
        writers.push({ set, receivers: room.conns.length - 1 });
      }
    });
  }
  // Every writer's first edit falls in the warm-up: it is a one-off (a person's first change to a
  // visit makes them a contributor, on servers that track that), not the steady fan-out measured here.
  const warmupMs = Math.max(p.warmupMs, (writers.length / p.rate) * 1000 + 250 + SETTLE_MS);
  const start = nowMs();
  measureFrom = start + warmupMs;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const measuring = setTimeout(() => loop.enable(), warmupMs);
  // A full collection in this load process once the first edits are made. Its young-generation
  // collections copied 1-3 MB each although a full one found little of that still in use (most
  // likely young objects held by dead old ones, which only a full collection frees) and took 10-20 ms;
  // after a full one, about two in a 10 s run, of 3-7 ms (README, "Benchmark").
  const collecting = setTimeout(() => (globalThis as { gc?: () => void }).gc?.(), warmupMs - SETTLE_MS);
  const endAt = warmupMs + p.durationMs;
  let sent = 0;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const t = nowMs();
      if (t - start >= endAt) {
        clearInterval(tick);
        resolve();
        return;
      }
      const due = Math.floor(((t - start) * p.rate) / 1000) - sent;
      for (let i = 0; i < due && writers.length; i++) {
        const w = writers[next++ % writers.length]!;
        const at = nowMs();
        w.set(encodeTs(at));
        sent++;
        if (at >= measureFrom) expected += w.receivers;
      }
    }, 2);
  });
  clearTimeout(measuring);
  clearTimeout(collecting);
  loop.disable();
  await new Promise((r) => setTimeout(r, 1500)); // let the last ones arrive
  for (const off of offs) off();
  return { sent, expected, samples, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
}
