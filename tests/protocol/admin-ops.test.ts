// Operations as an admin: online backup while clients write, restore into a fresh data directory that
// comes back identical, the check command, a tampered audit row found by verify, metrics, compaction.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { checkFile } from '../../apps/sync-server/src/ops/check.js';
import { api, login, stockClient, synced, tempDir, testServer, until } from '../helpers/server.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
/** Runs one of our CLI scripts the way `npm run <name> --` does; resolves with its exit code and output. */
async function cli(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], { cwd: root, env: { ...process.env, ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let srv: RunningServer;
let admin: string;
let patient: { id: string; visitId: string };

type AuditDump = Record<string, unknown>[];
function snapshotOf(s: RunningServer): { docs: Record<string, unknown>; audit: AuditDump } {
  s.ctx.queue.flush();
  const docs: Record<string, unknown> = {};
  for (const name of s.ctx.docs.docNames().sort()) {
    const { doc } = s.ctx.docs.load(name);
    docs[name] = { json: doc.toJSON(), sv: Array.from(Y.encodeStateVector(doc)) };
    doc.destroy();
  }
  return { docs, audit: s.ctx.db.prepare('SELECT * FROM audit ORDER BY id').all() as AuditDump };
}

beforeAll(async () => {
  srv = await testServer();
  admin = await login(srv.url, 'admin');
  patient = (await api<{ id: string; visitId: string }[]>(srv.url, admin, 'GET', '/api/patients?q=Mutua')).body[0]!;
});
afterAll(async () => {
  await srv.close();
});

describe('admin: operations', () => {
  it('backs up online while a nurse writes, and the restored copy serves identical documents and audit', async () => {
    const nurse = stockClient(srv.url, `patient:${patient.id}`, await login(srv.url, 'nurse'));
    await synced(nurse.provider);
    const vitals = sectionOf(nurse.doc, patient.visitId, 'vitals')!;
    let n = 0;
    const writer = setInterval(() => vitals.set('painScore', n++ % 11), 2);

    // Mid-writes backup: consistent and passing its check.
    await until(() => n > 20, 5000, 'writes under way');
    const during = await api<{ name: string; file: string; bytes: number }>(srv.url, admin, 'POST', '/admin/backups');
    expect(during.status).toBe(201);
    expect(checkFile(during.body.file).ok).toBe(true);
    clearInterval(writer);
    const last = n - 1;
    const room = () => srv.hub.rooms.get(`patient:${patient.id}`)!.doc;
    await until(() => sectionOf(room(), patient.visitId, 'vitals')!.get('painScore') === last % 11, 5000, 'last write stored');

    const expected = snapshotOf(srv);
    const backup = await api<{ name: string; file: string }>(srv.url, admin, 'POST', '/admin/backups');
    const listed = await api<{ backups: { name: string }[] }>(srv.url, admin, 'GET', '/admin/backups');
    expect(listed.body.backups.map((b) => b.name)).toEqual(expect.arrayContaining([during.body.name, backup.body.name]));

    // The original moves on after the backup; the restore must not see this.
    vitals.set('weight', 81);
    await until(() => sectionOf(room(), patient.visitId, 'vitals')!.get('weight') === 81, 5000, 'weight stored');
    nurse.provider.destroy();

    const fresh = tempDir('pamoja-restore-');
    const restored = await cli('restore', [backup.body.file, '--data-dir', fresh]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect((await cli('restore', [backup.body.file, '--data-dir', fresh])).stderr).toMatch(/exists; pass --force/);
    const check = await cli('check', ['--data-dir', fresh]);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, integrity: ['ok'], audit: { ok: true, rows: expected.audit.length } });

    const srv2 = await testServer({ dataDir: fresh });
    try {
      expect(snapshotOf(srv2)).toEqual(expected);
      // And it serves: a stock client gets the record as it was at backup time.
      const c = stockClient(srv2.url, `patient:${patient.id}`, await login(srv2.url, 'clinician'));
      await synced(c.provider);
      expect(sectionOf(c.doc, patient.visitId, 'vitals')!.get('painScore')).toBe(last % 11);
      expect(sectionOf(c.doc, patient.visitId, 'vitals')!.has('weight')).toBe(false);
      c.provider.destroy();
      const verify = await api<{ ok: boolean }>(srv2.url, await login(srv2.url, 'admin'), 'GET', '/admin/audit/verify');
      expect(verify.body.ok).toBe(true);
    } finally {
      await srv2.close();
    }
  });

  it('backs up from the command line while the server runs', async () => {
    const dir = tempDir('pamoja-cli-backup-');
    const r = await cli('backup', [dir, '--data-dir', srv.ctx.config.dataDir]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; bytes: number };
    expect(fs.existsSync(out.file)).toBe(true);
    expect(checkFile(out.file)).toMatchObject({ ok: true });
    expect((await cli('backup', [])).code).toBe(2);
  });

  it('creates the first administrator of an empty clinic from the command line', async () => {
    const dir = tempDir('pamoja-first-admin-');
    expect((await cli('create-admin', ['boss', '--data-dir', dir], { PAMOJA_PASSWORD: 'short' })).code).toBe(2);
    const r = await cli('create-admin', ['boss', '--name', 'Clinic IT', '--data-dir', dir], { PAMOJA_PASSWORD: 'long-enough-1' });
    expect(r.code).toBe(0);
    const empty = await testServer({ dataDir: dir, seedDemo: false });
    try {
      const token = await login(empty.url, 'boss', 'long-enough-1');
      expect((await api<unknown[]>(empty.url, token, 'GET', '/admin/users')).body).toHaveLength(1);
      expect((await api<{ ok: boolean; rows: number }>(empty.url, token, 'GET', '/admin/audit/verify')).body).toMatchObject({ ok: true });
    } finally {
      await empty.close();
    }
  });

  it('finds a tampered audit row: verify and check name the row', async () => {
    const backup = await api<{ file: string }>(srv.url, admin, 'POST', '/admin/backups');
    const dir = tempDir('pamoja-tamper-');
    const copy = path.join(dir, 'pamoja.sqlite');
    fs.copyFileSync(backup.body.file, copy);
    const db = new Database(copy);
    // The triggers stop honest mistakes; someone with the file can drop them. The chain still tells.
    expect(() => db.prepare("UPDATE audit SET new_value = '36.6' WHERE id = 5").run()).toThrow(/append-only/);
    const victim = db.prepare("SELECT id FROM audit WHERE action = 'UPDATE' ORDER BY id LIMIT 1").get() as { id: number };
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET new_value = '36.6' WHERE id = ?").run(victim.id);
    db.close();

    const report = checkFile(copy);
    expect(report.ok).toBe(false);
    expect(report.audit).toMatchObject({ ok: false, badRowId: victim.id, problem: 'row content does not match its hash' });
    const viaCli = await cli('check', ['--data-dir', dir]);
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toContain(`Audit chain broken at row ${victim.id}`);

    const srv3 = await testServer({ dataDir: dir });
    try {
      const v = await api<{ ok: boolean; badRowId: number }>(srv3.url, await login(srv3.url, 'admin'), 'GET', '/admin/audit/verify');
      expect(v.body).toMatchObject({ ok: false, badRowId: victim.id });
    } finally {
      await srv3.close();
    }
  });

  it('scrapes Prometheus metrics: connections, rooms, updates, latency, storage, audit rows', async () => {
    const nurse = stockClient(srv.url, `patient:${patient.id}`, await login(srv.url, 'nurse'));
    await synced(nurse.provider);
    sectionOf(nurse.doc, patient.visitId, 'vitals')!.set('spo2', 97);
    sectionOf(nurse.doc, patient.visitId, 'billing')!.set('amountDue', 1); // refused: cashier's part
    await until(() => sectionOf(nurse.doc, patient.visitId, 'billing')!.get('amountDue') === undefined, 5000, 'refusal');
    await until(() => sectionOf(srv.hub.rooms.get(`patient:${patient.id}`)!.doc, patient.visitId, 'vitals')!.get('spo2') === 97, 5000, 'stored');

    const res = await fetch(`${srv.url}/admin/metrics`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    const metric = (name: string): number => {
      const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} ([0-9.e+-]+)$`, 'm').exec(text);
      if (!m) throw new Error(`${name} missing from metrics`);
      return Number(m[1]);
    };
    expect(metric('pamoja_connections')).toBe(srv.hub.connections().length);
    expect(metric('pamoja_connections')).toBeGreaterThanOrEqual(1);
    expect(metric('pamoja_rooms')).toBe(srv.hub.rooms.size);
    expect(metric('pamoja_updates_accepted_total')).toBe(srv.ctx.metrics.updatesAccepted);
    expect(metric('pamoja_updates_refused_total')).toBeGreaterThanOrEqual(1);
    expect(metric('pamoja_update_commit_seconds_count')).toBeGreaterThan(20);
    expect(metric('pamoja_gate_seconds_count')).toBeGreaterThan(20);
    expect(metric('pamoja_storage_bytes{part="db"}')).toBeGreaterThan(0);
    srv.ctx.queue.flush();
    expect(metric('pamoja_audit_rows')).toBeGreaterThan(0);
    expect(text).toMatch(/^# TYPE pamoja_update_commit_seconds histogram$/m);
    expect(text).toMatch(/^pamoja_process_resident_memory_bytes /m);
    // Every line is a comment or one sample a Prometheus server can read.
    for (const line of text.trimEnd().split('\n')) {
      expect(line, line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{\w+="[^"]*"(,\w+="[^"]*")*\})? (-?[0-9.e+-]+|NaN))$/);
    }
    // Histogram buckets count everything at or under their bound, so they never fall, and +Inf is the count.
    const buckets = [...text.matchAll(/^pamoja_update_commit_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => Number(m[2]));
    expect(buckets.length).toBe(13);
    expect(buckets.every((b, i) => i === 0 || b >= buckets[i - 1]!)).toBe(true);
    expect(buckets.at(-1)).toBe(metric('pamoja_update_commit_seconds_count'));
    // The event-loop delay covers the time since the previous scrape: after a first one, it is measured.
    await new Promise((r) => setTimeout(r, 100));
    const again = await (await fetch(`${srv.url}/admin/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
    const p99 = Number(/^pamoja_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(again)?.[1]);
    // The records' bytes come from a sweep the first scrape started, finished by now.
    const stored = srv.ctx.db.prepare('SELECT (SELECT sum(length(data)) FROM doc_snapshots) AS snap, (SELECT coalesce(sum(length(data)), 0) FROM doc_updates) AS log').get() as { snap: number; log: number };
    expect(Number(/^pamoja_storage_bytes\{part="doc_snapshots"\} (\S+)$/m.exec(again)?.[1])).toBe(stored.snap);
    expect(Number(/^pamoja_storage_bytes\{part="doc_update_log"\} (\S+)$/m.exec(again)?.[1])).toBe(stored.log);
    expect(stored.snap).toBeGreaterThan(0);
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThan(5);
    const p50 = Number(/pamoja_update_commit_seconds_sum ([0-9.e+-]+)/.exec(text)![1]) / metric('pamoja_update_commit_seconds_count');
    console.log(`mean receipt-to-commit ${(p50 * 1000).toFixed(2)} ms over ${metric('pamoja_update_commit_seconds_count')} updates`);
    nurse.provider.destroy();
  });

  it('forces a snapshot: the update log is folded in and the record is unchanged', async () => {
    const docName = `patient:${patient.id}`;
    const nurse = stockClient(srv.url, docName, await login(srv.url, 'nurse'));
    await synced(nurse.provider);
    sectionOf(nurse.doc, patient.visitId, 'vitals')!.set('height', 172);
    await until(() => sectionOf(srv.hub.rooms.get(docName)!.doc, patient.visitId, 'vitals')!.get('height') === 172, 5000, 'stored');
    srv.ctx.queue.flush();
    const before = await api<{ logRows: number }>(srv.url, admin, 'GET', `/admin/docs/${docName}`);
    expect(before.body.logRows).toBeGreaterThan(0);
    const json = JSON.stringify(snapshotOf(srv).docs[docName]);
    const after = await api<{ logRows: number; snapshotBytes: number; updatesSinceSnapshot: number | null }>(srv.url, admin, 'POST', `/admin/docs/${docName}/compact`);
    expect(after.status).toBe(200);
    expect(after.body.logRows).toBe(0);
    expect(after.body.snapshotBytes).toBeGreaterThan(0);
    expect(after.body.updatesSinceSnapshot).toBe(0);
    expect(JSON.stringify(snapshotOf(srv).docs[docName])).toBe(json);
    nurse.provider.destroy();
  });
});
