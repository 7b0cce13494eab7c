// The fuzz suite's engine: bad frames against a live server while a healthy pair of stock clients keeps
// editing one of the attacked rooms and /healthz is polled. The server must never exit, the healthy
// room must keep syncing, and every certainly-bad frame must be answered with a reason.

import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { sectionOf } from '@pamoja/schema';
import { ServerProc } from './server-proc.js';
import { makeCase, seedUpdates, type FuzzCase } from './fuzz-cases.js';
import { docDiff, lcg, readDoc, sameDoc, waitFor } from './util.js';

export interface FuzzOptions {
  cases: number;
  parallel: number;
  seed: number;
}

export interface FuzzReport {
  cases: number;
  outcomes: Record<string, Record<string, number>>;
  unanswered: string[];
  serverExited: boolean;
  /** The end of the server's stderr when it exited: why it died. */
  serverLog: string | null;
  healthFailures: number;
  healthSlowestMs: number;
  healthyRoundTrips: number;
  /** Where the stock clients in the attacked room differ from the server; null when they hold what it holds. */
  healthyDiff: string | null;
  /** Where a room read back after a restart differs from what the server held before it; null when none does. */
  diskDiff: string | null;
  pendingOnServer: boolean;
  /** Exceptions nothing caught while the run went on (a stock client failing on what it received). */
  uncaught: string[];
}

type Outcome = 'closed' | 'refused' | 'accepted-or-ignored';

function runCase(url: string, c: FuzzCase): Promise<{ outcome: Outcome; reason: string; code: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let reason = '';
    let code = 0;
    let refused = false;
    let settle: NodeJS.Timeout | null = null;
    // How long to wait for a close after the frames, or after a refusal (which a close may follow).
    const wait = (ms: number): void => {
      if (settle) clearTimeout(settle);
      settle = setTimeout(() => finish(refused ? 'refused' : 'accepted-or-ignored'), ms);
    };
    const finish = (outcome: Outcome): void => {
      if (settle) clearTimeout(settle);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      resolve({ outcome, reason, code });
    };
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const dec = decoding.createDecoder(new Uint8Array(d));
      if (decoding.readVarUint(dec) === 2 && decoding.readVarUint(dec) === 0) {
        refused = true;
        reason = decoding.readVarString(dec);
        if (settle) wait(400);
      }
    });
    ws.once('message', () => {
      // The server has said hello (sync step 1): now the bad frames.
      for (const f of c.frames) if (ws.readyState === WebSocket.OPEN) ws.send(f, { binary: typeof f !== 'string' });
      // A frame the server may accept gets 400 ms for an answer; one it must answer gets longer,
      // so a server busy reopening rooms under 32 parallel attackers is not taken for a silent one.
      wait(c.mustAnswer && !refused ? 2000 : 400);
    });
    ws.on('close', (closeCode, r) => {
      code = closeCode;
      reason = r.toString() || reason;
      finish('closed');
    });
    ws.on('error', () => {});
  });
}

export async function fuzzRun(o: FuzzOptions, log: (s: string) => void = () => {}): Promise<FuzzReport> {
  const rand = lcg(o.seed);
  const maxFrame = 64 * 1024;
  const server = await ServerProc.create({ MAX_FRAME_BYTES: String(maxFrame) });
  const providers: WebsocketProvider[] = [];
  let stop = false;
  // A stock client that throws on what the server passed on is a finding, not the end of the run.
  const uncaught: string[] = [];
  const onUncaught = (e: Error): void => void uncaught.push(`${e.message} (${e.stack?.split('\n')[2]?.trim() ?? ''})`);
  process.on('uncaughtException', onUncaught);
  try {
    const nurse = await server.login('nurse');
    const reception = await server.login('reception');
    const rooms = [await server.newPatient(reception, 1), await server.newPatient(reception, 2)];
    const healthyRoom = rooms[0]!;
    const docName = `patient:${healthyRoom.id}`;
    const mk = (): { doc: Y.Doc; provider: WebsocketProvider } => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`${server.base.replace('http', 'ws')}/sync`, docName, doc, {
        params: { token: nurse }, WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true,
      });
      providers.push(provider);
      return { doc, provider };
    };
    const a = mk();
    const b = mk();
    await waitFor(() => a.provider.synced && b.provider.synced, 20_000, 'healthy clients synced');
    let roundTrips = 0;
    let lastSeen = -1;
    sectionOf(b.doc, healthyRoom.visitId, 'vitals')!.observe(() => {
      const v = sectionOf(b.doc, healthyRoom.visitId, 'vitals')!.get('heartRate');
      if (typeof v === 'number' && v !== lastSeen) (lastSeen = v, roundTrips++);
    });
    const healthy = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        sectionOf(a.doc, healthyRoom.visitId, 'vitals')!.set('heartRate', 40 + (i % 100));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let healthFailures = 0;
    let slowest = 0;
    const health = (async () => {
      while (!stop) {
        const t = performance.now();
        try {
          if ((await fetch(`${server.base}/healthz`)).status !== 200) healthFailures++;
        } catch {
          healthFailures++;
        }
        slowest = Math.max(slowest, performance.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const seeds = await Promise.all(rooms.map(async (r) => {
      const doc = await readDoc(server.base, `patient:${r.id}`, nurse);
      const s = seedUpdates(Y.encodeStateAsUpdate(doc), r.visitId);
      doc.destroy();
      return s;
    }));
    const outcomes: Record<string, Record<string, number>> = {};
    const unanswered: string[] = [];
    let serverExited = false;
    for (let i = 0; i < o.cases; i += o.parallel) {
      await Promise.all(Array.from({ length: Math.min(o.parallel, o.cases - i) }, async (_, k) => {
        const r = (i + k) % rooms.length;
        const c = makeCase(i + k, rand, seeds[r]!, maxFrame);
        const res = await runCase(`${server.base.replace('http', 'ws')}/sync/patient:${rooms[r]!.id}?token=${nurse}`, c);
        (outcomes[c.name] ??= {})[res.outcome] = ((outcomes[c.name] ?? {})[res.outcome] ?? 0) + 1;
        // 1009 (message too big) is the protocol's own reason; ws sends it without text (see README).
        const answered = res.outcome !== 'accepted-or-ignored' && (res.reason !== '' || res.code === 1009);
        if (c.mustAnswer && !answered) unanswered.push(`${c.name}: ${res.outcome} ${res.code}`);
      }));
      if (!server.alive) {
        serverExited = true;
        break;
      }
      if ((i / o.parallel) % 50 === 0) log(`${i + o.parallel} cases, healthy room round trips ${roundTrips}`);
    }
    const before = roundTrips;
    await waitFor(() => roundTrips > before + 3 || serverExited, 10_000, 'the healthy room to keep syncing after the fuzzing');
    stop = true;
    await Promise.all([healthy, health]);
    await waitFor(() => sameDoc(a.doc, b.doc), 10_000, 'healthy pair converged').catch(() => {});
    let pendingOnServer = false;
    let healthyDiff: string | null = null;
    let diskDiff: string | null = null;
    // A dead server has nothing to read back; its last words are the finding.
    const alive = !serverExited && server.alive;
    const inMemory = new Map<string, Y.Doc>();
    for (const r of alive ? rooms : []) {
      const d = await readDoc(server.base, `patient:${r.id}`, nurse);
      if (d.store.pendingStructs || d.store.pendingDs) pendingOnServer = true;
      // The stock clients in the attacked room hold exactly what the server holds: everything it
      // passed on from the fuzzing was something a stock client could apply.
      if (r === healthyRoom) healthyDiff = docDiff(a.doc, d) ?? docDiff(b.doc, d);
      inMemory.set(r.id, d);
    }
    if (alive) {
      // What is on disk rebuilds what was in memory: killed (no final snapshot) and started again,
      // with no client left to send anything back, the server reads every room back the same.
      for (const p of providers) p.destroy();
      await server.restart();
      const reader = await server.login('nurse');
      for (const r of rooms) {
        const d = await readDoc(server.base, `patient:${r.id}`, reader);
        diskDiff ??= docDiff(inMemory.get(r.id)!, d);
        d.destroy();
      }
    }
    for (const d of inMemory.values()) d.destroy();
    const died = serverExited || !server.alive;
    return {
      cases: o.cases, outcomes, unanswered, serverExited: died, serverLog: died ? server.stderr.slice(-4000) : null, healthFailures,
      healthSlowestMs: Math.round(slowest), healthyRoundTrips: roundTrips, healthyDiff, diskDiff, pendingOnServer, uncaught,
    };
  } finally {
    process.off('uncaughtException', onUncaught);
    stop = true;
    for (const p of providers) p.destroy();
    await server.stop();
  }
}
