// Verifying the audit chain while the server serves: the walk goes a step at a time with other work
// between the steps, finds the same broken row the one-go walk finds, and checks rows committed
// while it walks. And rows holding values JSON cannot write still commit, with everything beside them.

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { AuditLog } from '../../apps/sync-server/src/audit/audit-log.js';
import { DocStore } from '../../apps/sync-server/src/storage/doc-store.js';
import type { Actor } from '../../apps/sync-server/src/gate/actor.js';
import { tempDir } from '../helpers/server.js';
import { turnsDuring } from '../helpers/loop-turns.js';

const nurse = { userId: 'u-nurse', username: 'nurse', name: 'Nurse', role: 'NURSE', device: 'tab-1', ip: '10.0.0.5', userAgent: 'test' } as unknown as Actor;

function clinic(rows: number) {
  const db = openDatabase(tempDir());
  const queue = new CommitQueue(db);
  const audit = new AuditLog(db, queue);
  for (let i = 0; i < rows; i++) {
    audit.record(nurse, [{ action: 'UPDATE', outcome: 'applied', patientId: `p${i % 7}`, path: `visits/v${i}/vitals/pulse`, oldValue: i, newValue: i + 1 }]);
    queue.flush();
  }
  return { db, queue, audit };
}

describe('audit verification in steps', () => {
  it('walks the chain in steps with other work between them, and adds rows committed meanwhile', async () => {
    const { db, queue, audit } = clinic(250);
    let addedDuring = false;
    // Committed while the walk is under way (its first step runs at once, this in the turn after):
    // part of the chain by the time the walk gets there.
    setImmediate(() => {
      audit.record(nurse, [{ action: 'UPDATE', outcome: 'applied', patientId: 'p1', path: 'visits/v0/vitals/spo2', oldValue: null, newValue: 97 }]);
      queue.flush();
      addedDuring = true;
    });
    const { result, turns: otherTurns } = await turnsDuring(() => audit.verifyInSteps(20));
    expect(addedDuring).toBe(true);
    expect(result).toEqual({ ok: true, rows: 251 });
    expect(audit.verify()).toEqual(result);
    // 13 steps of 20 rows: the event loop took its turns between them.
    expect(otherTurns).toBeGreaterThan(0);
    db.close();
  });

  it('names the same broken row as the walk in one go, far into the chain', async () => {
    const { db, audit } = clinic(120);
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET new_value = '999' WHERE id = 97").run();
    const inOneGo = audit.verify();
    expect(inOneGo).toEqual({ ok: false, rows: 97, badRowId: 97, problem: 'row content does not match its hash' });
    expect(await audit.verifyInSteps(10)).toEqual(inOneGo);
    db.exec('DROP TRIGGER audit_no_delete');
    db.exec('DELETE FROM audit WHERE id = 50');
    expect(await audit.verifyInSteps(7)).toEqual({ ok: false, rows: 50, badRowId: 51, problem: 'row 50 is missing' });
    expect(audit.verify()).toEqual({ ok: false, rows: 50, badRowId: 51, problem: 'row 50 is missing' });
    db.close();
  });
});

describe('rows holding values JSON cannot write', () => {
  it('a row with a BigInt (or binary data, or a loop) commits as text, and the rest of its batch with it: another person\'s row and update on another record', () => {
    const db = openDatabase(tempDir());
    const errors: Error[] = [];
    const queue = new CommitQueue(db, { onError: (e) => errors.push(e) });
    const audit = new AuditLog(db, queue);
    const docs = new DocStore(db, queue);
    const clinician = { ...nurse, userId: 'u-clin', username: 'clinician', role: 'CLINICAL_OFFICER' } as unknown as Actor;
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    audit.record(nurse, [
      { action: 'UPDATE', outcome: 'reverted-forbidden', patientId: 'pA', path: 'visits/v1/vitals/heartRate', oldValue: 70, newValue: 72n },
      { action: 'UPDATE', outcome: 'reverted-forbidden', patientId: 'pA', path: 'visits/v1/vitals/weight', oldValue: null, newValue: { raw: new Uint8Array(2), n: 1n } },
      { action: 'UPDATE', outcome: 'reverted-forbidden', patientId: 'pA', path: 'visits/v1/vitals/height', oldValue: null, newValue: loop },
    ]);
    // In the same batch: another person's edit on another record, and its update.
    const other = new Y.Doc();
    other.getMap('contact').set('phone', '+254 700 111 222');
    docs.append('patient:pB', Y.encodeStateAsUpdate(other));
    audit.record(clinician, [{ action: 'UPDATE', outcome: 'applied', patientId: 'pB', path: 'contact/phone', oldValue: null, newValue: '+254 700 111 222' }]);
    let committed: Error | null | 'not yet' = 'not yet';
    queue.afterWrite((err) => (committed = err));
    queue.flush();

    expect(errors).toEqual([]);
    expect(committed).toBeNull();
    const rows = db.prepare('SELECT patient_id, path, new_value FROM audit ORDER BY id').all() as { patient_id: string; path: string; new_value: string }[];
    expect(rows.map((r) => [r.path, r.new_value])).toEqual([
      ['visits/v1/vitals/heartRate', '"72n"'],
      ['visits/v1/vitals/weight', '{"raw":"(binary, 2 bytes)","n":"1n"}'],
      ['visits/v1/vitals/height', expect.stringMatching(/^\(a value that cannot be written as JSON/)],
      ['contact/phone', '+254 700 111 222'],
    ]);
    expect(docs.load('patient:pB').doc.getMap('contact').get('phone')).toBe('+254 700 111 222');
    expect(audit.verify()).toEqual({ ok: true, rows: 4 });
    db.close();
  });
});
