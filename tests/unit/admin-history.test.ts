// The record history builder: values as of a past time, walked back from the record as it is now.

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openVisit, sectionOf } from '@pamoja/schema';
import type { AuditRow } from '../../apps/sync-server/src/audit/audit-log.js';
import { buildHistory } from '../../apps/sync-server/src/admin/history.js';
import { flattenRecord, kindOfPath } from '../../apps/sync-server/src/admin/record-fields.js';

let nextId = 1;
function row(at: string, action: string, path: string | null, oldValue: string | null, newValue: string | null, outcome = 'applied', username = 'nurse'): AuditRow {
  return {
    id: nextId++, at, user_id: username, username, role: 'NURSE', device: null, ip: null, user_agent: null, patient_id: 'p1',
    visit_id: 'v1', action, path, old_value: oldValue, new_value: newValue, outcome, detail: null, prev_hash: '', hash: '',
  };
}
const T = (min: number) => new Date(Date.UTC(2026, 0, 1, 8, min)).toISOString();

function recordNow(): { doc: Y.Doc; visitId: string } {
  const doc = new Y.Doc();
  doc.getMap('demographics').set('firstName', 'Amina');
  const visitId = openVisit(doc, { visitId: 'v1', openedAt: T(1) });
  sectionOf(doc, visitId, 'vitals')!.set('temperature', 39.1);
  sectionOf(doc, visitId, 'triage')!.set('category', 'URGENT');
  sectionOf<Y.Text>(doc, visitId, 'assessment')!.insert(0, 'Alert');
  const p = new Y.XmlElement('paragraph');
  p.insert(0, [new Y.XmlText('Plan: RDT')]);
  sectionOf<Y.XmlFragment>(doc, visitId, 'notes')!.insert(0, [p]);
  return { doc, visitId };
}

describe('record history', () => {
  const { doc } = recordNow();
  const current = flattenRecord(doc);
  const long = `${'x'.repeat(500)}…`;
  const rows = [
    row(T(0), 'REGISTER', 'demographics', null, JSON.stringify({ firstName: 'Amina', opNumber: 'OP-1' }), 'applied', 'reception'),
    row(T(2), 'UPDATE', 'visits/v1/vitals/temperature', null, '37'),
    row(T(4), 'UPDATE', 'visits/v1/vitals/temperature', '37', '39.1'),
    row(T(5), 'UPDATE', 'visits/v1/diagnoses/dx1', null, '{"code":"B54"}', 'reverted-forbidden'),
    // An offline nurse's concurrent write lost to the value already there: recorded as a conflict.
    row(T(6), 'UPDATE', 'visits/v1/triage/category', 'URGENT', 'NON_URGENT', 'conflict', 'nurse2'),
    row(T(3), 'UPDATE', 'visits/v1/triage/category', null, 'URGENT'),
    row(T(7), 'UPDATE', 'visits/v1/assessment', null, 'inserted "Alert"'),
    row(T(8), 'UPDATE', 'visits/v1/vitals/weight', null, long),
    row(T(9), 'UPDATE', 'visits/v1/vitals/weight', long, null),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const value = (at: string | null, path: string) => buildHistory(rows, current, at).fields.find((f) => f.path === path);

  it('knows the kind of every path', () => {
    expect(kindOfPath('demographics/firstName')).toBe('map');
    expect(kindOfPath('visits/v1/vitals/temperature')).toBe('map');
    expect(kindOfPath('visits/v1/assessment')).toBe('text');
    expect(kindOfPath('visits/v1/notes')).toBe('notes');
    expect(kindOfPath('visits/v1')).toBeNull();
    expect(kindOfPath('conflicts/c1')).toBeNull();
  });

  it('flattens the record as the audit writes values', () => {
    const byPath = new Map(current.fields.map((f) => [f.path, f.value]));
    expect(byPath.get('visits/v1/vitals/temperature')).toBe('39.1');
    expect(byPath.get('visits/v1/notes')).toBe('Plan: RDT');
    expect(byPath.get('visits/v1/assessment')).toBe('Alert');
    expect(current.visitOpenedAt.get('v1')).toBe(T(1));
  });

  it('walks map fields back to their exact past values', () => {
    expect(value(T(1) , 'visits/v1/vitals/temperature')).toBeUndefined();
    expect(value(T(2), 'visits/v1/vitals/temperature')).toMatchObject({ value: '37', exact: true, setAt: T(2) });
    expect(value(T(3), 'visits/v1/vitals/temperature')).toMatchObject({ value: '37', exact: true });
    expect(value(T(4), 'visits/v1/vitals/temperature')).toMatchObject({ value: '39.1', exact: true });
    expect(value(null, 'visits/v1/vitals/temperature')?.value).toBe('39.1');
  });

  it('does not let a refused change or a lost conflict move a value', () => {
    expect(value(null, 'visits/v1/diagnoses/dx1')).toBeUndefined();
    expect(value(T(5), 'visits/v1/triage/category')?.value).toBe('URGENT');
    expect(value(T(7), 'visits/v1/triage/category')?.value).toBe('URGENT');
  });

  it('shows deleted fields while they existed and marks clipped values inexact', () => {
    expect(value(null, 'visits/v1/vitals/weight')).toBeUndefined();
    expect(value(T(8), 'visits/v1/vitals/weight')).toMatchObject({ value: long, exact: false });
  });

  it('knows text only while it is unchanged since the time asked', () => {
    expect(value(T(6), 'visits/v1/assessment')).toMatchObject({ value: null, exact: false });
    expect(value(T(7), 'visits/v1/assessment')).toMatchObject({ value: 'Alert', exact: true });
  });

  it('has nothing before registration or before the visit opened, and registration fields after', () => {
    expect(buildHistory(rows, current, new Date(Date.UTC(2025, 11, 31)).toISOString()).fields).toEqual([]);
    const early = buildHistory(rows, current, T(0)).fields;
    expect(early.map((f) => f.path)).toEqual(['demographics/firstName']);
    expect(early[0]).toMatchObject({ value: 'Amina', setBy: 'reception' });
  });

  it('lists every field change in order, refusals included', () => {
    const h = buildHistory(rows, current, null, 'visits/v1/');
    expect(h.changes.map((c) => c.path)).toEqual([
      'visits/v1/assessment', 'visits/v1/diagnoses/dx1', 'visits/v1/triage/category', 'visits/v1/vitals/temperature', 'visits/v1/vitals/weight',
    ]);
    expect(h.changes.find((c) => c.path === 'visits/v1/triage/category')!.changes.map((c) => [c.username, c.oldValue, c.newValue, c.outcome])).toEqual([
      ['nurse', null, 'URGENT', 'applied'], ['nurse2', 'URGENT', 'NON_URGENT', 'conflict'],
    ]);
  });
});
