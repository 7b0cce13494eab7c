// Verifying the audit chain while the server serves: the walk goes a step at a time with other work
// between the steps, finds the same broken row the one-go walk finds, and checks rows committed
// while it walks.

import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { AuditLog } from '../../apps/sync-server/src/audit/audit-log.js';
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
