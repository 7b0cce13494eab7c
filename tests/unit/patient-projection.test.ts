// The patient list's rows follow the records: a change to what a row lists rewrites it, an edit that
// leaves the listed summary as it was writes nothing (no row, no index or search entry).

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openVisit, sectionOf, setDemographics } from '@pamoja/schema';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { PatientProjection } from '../../apps/sync-server/src/projections/patients.js';
import { tempDir } from '../helpers/server.js';

describe('patient list rows', () => {
  it('rewrites a row only when what it lists changes', () => {
    const db = openDatabase(tempDir());
    const queue = new CommitQueue(db);
    const patients = new PatientProjection(db, queue);
    const doc = new Y.Doc();
    setDemographics(doc, { opNumber: 'OP-2026-000001', firstName: 'Amina', lastName: 'Wanjiru', sex: 'female', dateOfBirth: '1990-03-04' });
    const visitId = openVisit(doc);
    const rowChanges = (): number => {
      const before = db.prepare('SELECT total_changes() AS n').get() as { n: number };
      patients.refresh('p1', doc);
      queue.flush();
      return (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n - before.n;
    };
    const row = () => db.prepare('SELECT first_name, triage_category, visit_status FROM patients WHERE id = ?').get('p1');

    // Changes counted by SQLite, the search index's (written by triggers) included.
    expect(rowChanges()).toBeGreaterThan(0);
    expect(row()).toEqual({ first_name: 'Amina', triage_category: null, visit_status: 'REGISTERED' });
    // Triage notes being typed: the listed summary is the same, nothing is written.
    sectionOf(doc, visitId, 'triage')!.set('complaint', 'headache for two days');
    expect(rowChanges()).toBe(0);
    sectionOf(doc, visitId, 'triage')!.set('category', 'URGENT');
    expect(rowChanges()).toBeGreaterThan(0);
    expect(row()).toEqual({ first_name: 'Amina', triage_category: 'URGENT', visit_status: 'REGISTERED' });
    setDemographics(doc, { firstName: 'Aminah' });
    expect(rowChanges()).toBeGreaterThan(0);
    expect(row()).toMatchObject({ first_name: 'Aminah' });
    db.close();
  });
});
