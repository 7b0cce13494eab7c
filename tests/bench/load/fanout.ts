// Fan-out latency: writers set a vital sign to the current time at a steady total rate; every other
// connection in the room measures how long the change took to reach it through the server.

import { TIMED_KEYS, encodeTs, latencyMs, nowMs, vitals } from './workload.js';
import type { OpenRoom } from './rooms.js';

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
}

export async function fanout(rooms: OpenRoom[], p: FanoutParams): Promise<FanoutResult> {
  let measureFrom = Infinity;
  const samples: number[] = [];
  let expected = 0;
  const writers: { set: (v: number) => void; receivers: number }[] = [];
  const offs: (() => void)[] = [];
  for (const room of rooms) {
    room.conns.forEach((c, i) => {
      const map = vitals(c.doc, room.spec.visitId);
      const observer = (ev: { keysChanged: Set<string>; transaction: { local: boolean } }): void => {
        if (ev.transaction.local) return;
        const at = nowMs();
        if (at < measureFrom) return;
        for (const k of ev.keysChanged) {
          const v = map.get(k);
          if (typeof v === 'number' && (TIMED_KEYS as readonly string[]).includes(k)) samples.push(latencyMs(v, at));
        }
      };
      map.observe(observer);
      offs.push(() => map.unobserve(observer));
      if (i < Math.min(p.writersPerRoom, TIMED_KEYS.length)) {
        const key = TIMED_KEYS[i]!;
        writers.push({ set: (v) => map.set(key, v), receivers: room.conns.length - 1 });
      }
    });
  }
  // Every writer's first edit falls in the warm-up: it is a one-off (a person's first change to a
  // visit makes them a contributor, on servers that track that), not the steady fan-out measured here.
  const warmupMs = Math.max(p.warmupMs, (writers.length / p.rate) * 1000 + 250);
  const start = nowMs();
  measureFrom = start + warmupMs;
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
  await new Promise((r) => setTimeout(r, 1500)); // let the last ones arrive
  for (const off of offs) off();
  return { sent, expected, samples };
}
