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
import * as Y from 'yjs';
import { KeySetter, TIMED_KEYS, encodeTs, nowMs, readUpdate, vitals } from './workload.js';
import type { OpenRoom } from './rooms.js';

/** Time between the load process's full collection and the start of measuring. */
const SETTLE_MS = 500;
/** After the last send: wait at least this long for the last messages (every server alike)... */
const DRAIN_MIN_MS = 1500;
/** ...then on while they still come in, until none has come for this long... */
const DRAIN_IDLE_MS = 2000;
/** ...or this long after the last send at most. */
const DRAIN_MAX_MS = 20_000;

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
  /** Messages the receivers should have had: one per other connection in the room, per update sent while measuring. */
  expected: number;
  /** How long after the last send the last counted message came in (ms). */
  drainedMs: number;
  /** Of the samples, those brought by a later set of the same writer (see fanout()). */
  superseded: number;
  /** Receivers that missed one of a writer's updates (its later ones then count for nothing). */
  missed: number;
  /** Connections the server closed during the run, as `code reason` with how many: none is expected. */
  closed: Record<string, number>;
  samples: number[];
  /** This load process's own event-loop delay while measuring (ms): its stalls are in the samples too. */
  loopP99: number;
  loopMax: number;
}

/** One writer's sends in a run: the value each set carried, and when it was sent (this process's clock). */
interface WriterLog {
  index: number;
  clientId: number;
  sentAt: number[];
}

export async function fanout(rooms: OpenRoom[], p: FanoutParams): Promise<FanoutResult> {
  let measureFrom = Infinity;
  let lastArrival = 0;
  let superseded = 0;
  let missed = 0;
  const samples: number[] = [];
  let expected = 0;
  const writers: { set: (v: number) => void; receivers: number }[] = [];
  const offs: (() => void)[] = [];
  for (const room of rooms) {
    // Which writer sent each value, and which of its sends it was. A server may apply several of one
    // writer's updates together (Pamoja does with messages that arrive together, after the network or
    // the server was held up) and pass on only the last value, as Yjs encodes the whole transaction:
    // a receiver that gets a writer's set has then also been brought past its earlier ones, which
    // count as delivered at that moment. Samples are counted by send time, as `expected` is.
    const sentValues = new Map<number, { log: WriterLog; seq: number }>();
    const byClient = new Map<number, WriterLog>();
    room.conns.forEach((c, i) => {
      const seen: number[] = [];
      // Where each writer's next struct must start for this receiver; a writer whose update it missed
      // (a gap that a later one does not fill) brings it nothing more: a Yjs client would wait for the gap.
      const next = new Map<number, number>();
      const stuck = new Set<number>();
      c.onRemote = (update) => {
        const at = nowMs();
        const { timestamps, ranges } = readUpdate(update, c.doc.clientID);
        for (const [client, r] of ranges) {
          if (!byClient.has(client) || stuck.has(client)) continue;
          const from = next.get(client) ?? Y.getState(c.doc.store, client);
          if (r.from > from || !r.whole) {
            stuck.add(client);
            missed++;
          } else next.set(client, Math.max(from, r.to));
        }
        for (const v of timestamps) {
          const sent = sentValues.get(v);
          if (!sent || stuck.has(sent.log.clientId)) continue;
          const { log, seq } = sent;
          for (let k = (seen[log.index] ?? -1) + 1; k <= seq; k++) {
            if (log.sentAt[k]! < measureFrom) continue;
            samples.push(at - log.sentAt[k]!);
            if (k < seq) superseded++;
            lastArrival = at;
          }
          seen[log.index] = Math.max(seen[log.index] ?? -1, seq);
        }
      };
      offs.push(() => (c.onRemote = null));
      if (i < Math.min(p.writersPerRoom, TIMED_KEYS.length)) {
        const key = TIMED_KEYS[i]!;
        const map = vitals(c.doc, room.spec.visitId);
        const log: WriterLog = { index: byClient.size, clientId: c.doc.clientID, sentAt: [] };
        byClient.set(log.clientId, log);
        // The first set goes through the writer's copy of the record; later ones are encoded alone.
        let setter: KeySetter | null = null;
        const set = (at: number): void => {
          let v = encodeTs(at);
          while (sentValues.has(v)) v = encodeTs((at += 0.001)); // two sends in the same microsecond
          sentValues.set(v, { log, seq: log.sentAt.length });
          log.sentAt.push(at);
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
        w.set(at);
        sent++;
        if (at >= measureFrom) expected += w.receivers;
      }
    }, 2);
  });
  clearTimeout(measuring);
  clearTimeout(collecting);
  loop.disable();
  // The last ones to arrive. On a machine busy with other work a server or a load process can be held
  // up for seconds; what the run reports as not delivered must be lost, not late.
  const lastSend = nowMs();
  await new Promise((r) => setTimeout(r, DRAIN_MIN_MS));
  while (samples.length < expected && nowMs() - lastSend < DRAIN_MAX_MS && nowMs() - Math.max(lastArrival, lastSend) < DRAIN_IDLE_MS) {
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const off of offs) off();
  const closed: Record<string, number> = {};
  for (const c of rooms.flatMap((r) => r.conns)) {
    if (!c.closedWith) continue;
    const k = `${c.closedWith.code} ${c.closedWith.reason}`.trim();
    closed[k] = (closed[k] ?? 0) + 1;
  }
  const drainedMs = Math.max(0, lastArrival - lastSend);
  return { sent, expected, drainedMs, superseded, missed, closed, samples, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
}
