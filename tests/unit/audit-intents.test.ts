// An accepted edit's audit rows are kept in its log row and written a little later, many edits' at
// once, out of the commit that comes before the edit is sent on. Nothing of the audit may be lost
// that way: not to a crash in between, not to a compaction deleting the log row, not to a commit that
// fails.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import * as Y from 'yjs';
import { openDatabase, type DB } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { AuditLog, type AuditEntry } from '../../apps/sync-server/src/audit/audit-log.js';
import { DocStore } from '../../apps/sync-server/src/storage/doc-store.js';
import type { Actor } from '../../apps/sync-server/src/gate/actor.js';
import { checkFile } from '../../apps/sync-server/src/ops/check.js';
import { tempDir } from '../helpers/server.js';

const nurse: Actor = { userId: 'u-nurse', username: 'nurse', name: 'Nurse', role: 'NURSE', device: 'tab-1', ip: '10.0.0.5', userAgent: 'test' };
const DOC = 'patient:p1';
const LATER_MS = 20;

/** The server's parts on a data directory, wired as server.ts wires them. */
function open(dir: string) {
  const db = openDatabase(dir);
  const errors: Error[] = [];
  let audit: AuditLog | null = null;
  const queue = new CommitQueue(db, {
    laterMs: LATER_MS,
    onError: (e) => {
      errors.push(e);
      if (db.open) audit?.resync();
    },
  });
  audit = new AuditLog(db, queue);
  const caughtUp = audit.catchUp();
  const log = audit;
  const docs = new DocStore(db, queue, () => log.writeIntents());
  return { db, queue, audit, docs, errors, caughtUp };
}

type Parts = ReturnType<typeof open>;

/** What the room does with an accepted edit: its update logged with its audit rows kept in it. */
function acceptEdit(p: Parts, doc: Y.Doc, key: string, value: unknown, extra: AuditEntry[] = []): void {
  const vitals = doc.getMap('vitals');
  const old = vitals.get(key) ?? null;
  const sv = Y.encodeStateVector(doc);
  vitals.set(key, value);
  const entries: AuditEntry[] = [
    { action: 'UPDATE', outcome: 'applied', patientId: 'p1', visitId: 'v1', path: `visits/v1/vitals/${key}`, oldValue: old, newValue: value },
    ...extra,
  ];
  p.docs.append(DOC, Y.encodeStateAsUpdate(doc, sv), p.audit.defer(nurse, entries));
}

const auditRows = (db: DB) => db.prepare('SELECT * FROM audit ORDER BY id').all();
const upto = (db: DB) => (db.prepare('SELECT seq FROM audit_upto').get() as { seq: number } | undefined)?.seq ?? 0;
/** Past the time audit rows may wait for their commit. */
const later = () => new Promise((r) => setTimeout(r, LATER_MS * 3));

/** Stops as a killed server would: what is committed stays, nothing queued is run. */
function crash(p: Parts): void {
  p.db.close();
}

describe('audit rows kept in the log row until they are written', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-23T09:00:00.000Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('the commit before sending holds the edit and its audit content, not the audit rows; they follow within the time set', async () => {
    const p = open(tempDir());
    const doc = new Y.Doc();
    acceptEdit(p, doc, 'heartRate', 72);
    p.queue.commitOpenBatch();
    // What another connection (or a restart) would see now.
    const reader = new Database(p.db.name, { readonly: true });
    const logRows = reader.prepare('SELECT seq, audit FROM doc_updates WHERE doc = ?').all(DOC) as { seq: number; audit: string | null }[];
    expect(logRows).toHaveLength(1);
    expect(JSON.parse(logRows[0]!.audit!).rows).toEqual([['UPDATE', 'applied', 'p1', 'v1', 'visits/v1/vitals/heartRate', null, '72', null]]);
    expect(reader.prepare('SELECT count(*) AS n FROM audit').get()).toEqual({ n: 0 });
    await later();
    expect(reader.prepare('SELECT user_id, device, path, old_value, new_value, outcome FROM audit').all()).toEqual([
      { user_id: 'u-nurse', device: 'tab-1', path: 'visits/v1/vitals/heartRate', old_value: null, new_value: '72', outcome: 'applied' },
    ]);
    expect(upto(reader)).toBe(logRows[0]!.seq);
    reader.close();
    p.db.close();
  });

  it('after a crash before they are written, the server writes them when it starts: the same rows, the same chain', async () => {
    const refused: AuditEntry = {
      action: 'UPDATE', outcome: 'reverted-forbidden', patientId: 'p1', visitId: 'v1', path: 'visits/v1/diagnoses', oldValue: null,
      newValue: { code: 'A09', text: 'Gastroenteritis' }, detail: 'Nurses cannot change the diagnoses',
    };
    // The same edits twice: once their rows are written, once the server is killed first.
    const run = async (killed: boolean): Promise<{ rows: unknown[]; caughtUp: number; pendingAfter: number }> => {
      const dir = tempDir();
      const p = open(dir);
      const doc = new Y.Doc();
      acceptEdit(p, doc, 'heartRate', 72);
      await later();
      p.audit.record(nurse, [{ action: 'VIEW', outcome: 'ok', patientId: 'p1', path: DOC }]);
      p.queue.flush();
      vi.setSystemTime(new Date('2026-11-23T09:00:01.000Z'));
      acceptEdit(p, doc, 'temperature', 37.2, [refused]);
      p.queue.commitOpenBatch();
      // Two edits of one field, committed apart: two rows, either way.
      acceptEdit(p, doc, 'heartRate', 74);
      p.queue.commitOpenBatch();
      acceptEdit(p, doc, 'heartRate', 76);
      p.queue.commitOpenBatch();
      if (killed) {
        const file = p.db.name;
        crash(p);
        // `npm run check` on what is left: the chain holds, three edits' rows are still in their log rows.
        expect(checkFile(file).audit).toMatchObject({ ok: true, rows: 2, kept: 3 });
      } else {
        await later();
        p.db.close();
      }
      const again = open(dir);
      const rows = auditRows(again.db);
      const pendingAfter = again.audit.storedIntents().length;
      expect(again.audit.verify()).toEqual({ ok: true, rows: rows.length });
      again.db.close();
      return { rows, caughtUp: again.caughtUp, pendingAfter };
    };
    const ended = await run(false);
    vi.setSystemTime(new Date('2026-11-23T09:00:00.000Z'));
    const killed = await run(true);
    expect(ended.caughtUp).toBe(0);
    expect(killed.caughtUp).toBe(3);
    expect(killed.pendingAfter).toBe(0);
    expect(killed.rows).toEqual(ended.rows);
    expect((killed.rows as { path: string; old_value: string | null; new_value: string | null }[]).map((r) => [r.path, r.old_value, r.new_value])).toEqual([
      ['visits/v1/vitals/heartRate', null, '72'],
      ['patient:p1', null, null],
      ['visits/v1/vitals/temperature', null, '37.2'],
      ['visits/v1/diagnoses', null, '{"code":"A09","text":"Gastroenteritis"}'],
      ['visits/v1/vitals/heartRate', '72', '74'],
      ['visits/v1/vitals/heartRate', '74', '76'],
    ]);
  });

  it('the rows of many edits, each committed on its own, are written in one commit', async () => {
    const p = open(tempDir());
    const doc = new Y.Doc();
    const before = p.queue.stats.batches;
    for (let i = 0; i < 50; i++) {
      acceptEdit(p, doc, 'heartRate', 60 + i);
      p.queue.commitOpenBatch();
      acceptEdit(p, doc, 'spo2', i);
      p.queue.commitOpenBatch();
    }
    expect(p.queue.stats.batches - before).toBe(100);
    expect(auditRows(p.db)).toEqual([]);
    await later();
    expect(p.queue.stats.batches - before).toBe(101);
    // Each edit its own row, in order.
    const rows = p.db.prepare('SELECT path, new_value FROM audit ORDER BY id').all() as { path: string; new_value: string }[];
    expect(rows).toHaveLength(100);
    expect(rows.slice(-2)).toEqual([{ path: 'visits/v1/vitals/heartRate', new_value: '109' }, { path: 'visits/v1/vitals/spo2', new_value: '49' }]);
    expect(p.audit.verify()).toEqual({ ok: true, rows: 100 });
    p.db.close();
  });

  it('a row recorded after an edit comes after the edit\'s rows in the chain, though those were kept back', async () => {
    const p = open(tempDir());
    const doc = new Y.Doc();
    acceptEdit(p, doc, 'heartRate', 72);
    p.queue.commitOpenBatch();
    p.audit.record(nurse, [{ action: 'HANDOFF', outcome: 'ok', patientId: 'p1', path: 'visits/v1/workflow/status' }]);
    p.queue.commitOpenBatch();
    expect(p.db.prepare('SELECT action, path FROM audit ORDER BY id').all()).toEqual([
      { action: 'UPDATE', path: 'visits/v1/vitals/heartRate' },
      { action: 'HANDOFF', path: 'visits/v1/workflow/status' },
    ]);
    await later();
    expect(p.audit.verify()).toEqual({ ok: true, rows: 2 });
    expect(p.audit.storedIntents()).toEqual([]);
    p.db.close();
  });

  it('rows recorded before and after an edit in one batch keep their places around it (an outside review found them chained ahead of it)', async () => {
    const p = open(tempDir());
    const doc = new Y.Doc();
    const clinician: Actor = { ...nurse, userId: 'u-clin', username: 'clinician', role: 'CLINICAL_OFFICER' };
    // One turn of the loop: a colleague opens another record, the nurse edits, the colleague opens hers.
    p.audit.record(clinician, [{ action: 'VIEW', outcome: 'ok', patientId: 'p0', path: 'patient:p0' }]);
    acceptEdit(p, doc, 'heartRate', 72);
    p.audit.record(clinician, [{ action: 'VIEW', outcome: 'ok', patientId: 'p1', path: DOC }]);
    p.queue.flush();
    expect(p.db.prepare('SELECT action, patient_id FROM audit ORDER BY id').all()).toEqual([
      { action: 'VIEW', patient_id: 'p0' },
      { action: 'UPDATE', patient_id: 'p1' },
      { action: 'VIEW', patient_id: 'p1' },
    ]);
    // And recorded after it ran, a row is still written (a new group).
    p.audit.record(clinician, [{ action: 'VIEW', outcome: 'ok', patientId: 'p2', path: 'patient:p2' }]);
    p.queue.flush();
    expect(p.audit.verify()).toEqual({ ok: true, rows: 4 });
    p.db.close();
  });

  it('a compaction writes the rows kept in the log rows it deletes, in its own transaction', async () => {
    const dir = tempDir();
    const p = open(dir);
    const doc = new Y.Doc();
    acceptEdit(p, doc, 'heartRate', 72);
    p.queue.commitOpenBatch();
    p.docs.compact(DOC, doc);
    p.queue.commitOpenBatch();
    crash(p);
    const again = open(dir);
    expect(again.caughtUp).toBe(0);
    expect(again.db.prepare('SELECT count(*) AS n FROM doc_updates').get()).toEqual({ n: 0 });
    expect(again.db.prepare('SELECT path, new_value FROM audit').all()).toEqual([{ path: 'visits/v1/vitals/heartRate', new_value: '72' }]);
    expect(again.docs.load(DOC).doc.getMap('vitals').get('heartRate')).toBe(72);
    again.db.close();
  });

  it('a failed commit of the rows leaves them for the next, written once; an edit whose own commit failed has none', async () => {
    const p = open(tempDir());
    const doc = new Y.Doc();
    acceptEdit(p, doc, 'heartRate', 72);
    p.queue.commitOpenBatch();
    // Fails the commit that writes the audit rows (a flush takes them along).
    p.queue.write(() => {
      throw new Error('disk full');
    });
    p.queue.flush();
    expect(p.errors.map((e) => e.message)).toEqual(['disk full']);
    expect(auditRows(p.db)).toEqual([]);
    await later();
    expect(p.db.prepare('SELECT path, new_value FROM audit').all()).toEqual([{ path: 'visits/v1/vitals/heartRate', new_value: '72' }]);
    // An edit whose own commit fails: its log row and the rows kept in it are gone together.
    acceptEdit(p, doc, 'spo2', 97);
    p.queue.write(() => {
      throw new Error('disk full again');
    });
    p.queue.commitOpenBatch();
    await later();
    expect(p.db.prepare('SELECT path, new_value FROM audit').all()).toEqual([{ path: 'visits/v1/vitals/heartRate', new_value: '72' }]);
    expect(p.audit.storedIntents()).toEqual([]);
    expect(p.audit.verify()).toEqual({ ok: true, rows: 1 });
    p.db.close();
  });
});
