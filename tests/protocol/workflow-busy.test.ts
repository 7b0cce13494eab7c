// A busy morning: many patients registered at once and moved through the clinic in parallel by the
// six roles over HTTP, half of them via the lab. Every visit ends COMPLETED with a clean trail, the
// queues empty, and the day board adds up. Timings are printed for the record.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced, testServer } from '../helpers/server.js';
import { assignments, transition, worklist } from '../helpers/workflow.js';

const PATIENTS = 40;
let srv: RunningServer;
const tok: Record<string, string> = {};

beforeAll(async () => {
  srv = await testServer({ seedDemo: true, sqliteSynchronous: (process.env.SQLITE_SYNCHRONOUS as 'FULL' | 'NORMAL') ?? 'FULL' });
  for (const u of ['reception', 'nurse', 'clinician', 'lab', 'pharmacy', 'cashier']) tok[u] = await login(srv.url, u);
});
afterAll(async () => {
  await srv.close();
});

const latencies: number[] = [];
async function move(who: string, pid: string, vid: string, to: string): Promise<void> {
  const t = performance.now();
  const r = await transition(srv.url, tok[who]!, pid, vid, to);
  latencies.push(performance.now() - t);
  expect(r.status, `${who} ${to}: ${r.body.error ?? ''}`).toBe(200);
}

describe('a busy morning', () => {
  it(`moves ${PATIENTS} patients through the clinic in parallel`, async () => {
    const started = performance.now();
    const regs = await Promise.all(Array.from({ length: PATIENTS }, (_, i) => api<{ id: string; visitId: string }>(srv.url, tok.reception!, 'POST', '/api/patients', {
      firstName: `Busy${i}`, lastName: 'Morning', sex: i % 2 ? 'male' : 'female', dateOfBirth: `19${50 + (i % 50)}-06-15`, allowDuplicate: true,
    })));
    expect(regs.every((r) => r.status === 201)).toBe(true);
    const visits = regs.map((r, i) => ({ pid: r.body.id, vid: r.body.visitId, lab: i % 2 === 0 }));
    expect((await worklist(srv.url, tok.nurse!)).body.items.filter((x) => visits.some((v) => v.vid === x.visitId))).toHaveLength(PATIENTS);

    await Promise.all(visits.map((v) => move('nurse', v.pid, v.vid, 'CONSULTATION')));
    // Clinicians order tests for half of them, over WebSocket.
    await Promise.all(visits.filter((v) => v.lab).map(async (v) => {
      const c = stockClient(srv.url, `patient:${v.pid}`, tok.clinician!);
      await synced(c.provider);
      sectionOf(c.doc, v.vid, 'labOrders')!.set(newId(), { test: 'Full blood count', priority: 'NORMAL' });
      const t0 = Date.now();
      while (!srv.hub.rooms.get(`patient:${v.pid}`) || sectionOf(srv.hub.rooms.get(`patient:${v.pid}`)!.doc, v.vid, 'labOrders')!.size === 0) {
        if (Date.now() - t0 > 5000) throw new Error('order did not reach the server');
        await new Promise((r) => setTimeout(r, 10));
      }
      c.provider.destroy();
    }));
    await Promise.all(visits.map((v) => move('clinician', v.pid, v.vid, v.lab ? 'LAB' : 'PHARMACY')));
    await Promise.all(visits.filter((v) => v.lab).map((v) => move('lab', v.pid, v.vid, 'PHARMACY')));
    await Promise.all(visits.map((v) => move('pharmacy', v.pid, v.vid, 'PAYMENT')));
    const wlStart = performance.now();
    const cashierQueue = await worklist(srv.url, tok.cashier!);
    const worklistMs = performance.now() - wlStart;
    expect(cashierQueue.body.items.filter((x) => visits.some((v) => v.vid === x.visitId))).toHaveLength(PATIENTS);
    await Promise.all(visits.map((v) => move('cashier', v.pid, v.vid, 'COMPLETED')));
    const totalMs = performance.now() - started;

    for (const v of visits.slice(0, 6)) {
      const a = await assignments(srv.url, tok.cashier!, v.pid, v.vid);
      expect(a.active).toBeNull();
      expect(a.steps.map((s) => s.step)).toEqual(v.lab ? ['TRIAGE', 'CONSULTATION', 'LAB', 'PHARMACY', 'PAYMENT'] : ['TRIAGE', 'CONSULTATION', 'PHARMACY', 'PAYMENT']);
    }
    const board = await api<{ completedToday: { visitId: string }[]; steps: { step: string; total: number }[]; averagesToday: { step: string; count: number }[] }>(srv.url, tok.cashier!, 'GET', '/api/board');
    expect(board.body.completedToday.filter((c) => visits.some((v) => v.vid === c.visitId))).toHaveLength(PATIENTS);
    expect(board.body.averagesToday.find((s) => s.step === 'LAB')?.count).toBe(PATIENTS / 2);
    for (const role of ['nurse', 'clinician', 'lab', 'pharmacy', 'cashier']) {
      expect((await worklist(srv.url, tok[role]!)).body.items.filter((x) => visits.some((v) => v.vid === x.visitId))).toEqual([]);
    }
    expect(srv.ctx.audit.verify().ok).toBe(true);

    latencies.sort((a, b) => a - b);
    const pct = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
    console.log(`[workflow-busy] ${PATIENTS} patients, ${latencies.length} transitions in ${totalMs.toFixed(0)} ms; transition p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms (${PATIENTS} concurrent); worklist of ${PATIENTS} in ${worklistMs.toFixed(1)} ms`);
  });
});
