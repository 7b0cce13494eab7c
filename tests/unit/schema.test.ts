import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  MAP_SPECS, VISIT_SECTION_NAMES, checkValue, docNameFor, listVisits, openVisit, patientIdFromDocName, searchIcd10,
  sectionOf, summarize, setContact, setDemographics, unitFromSegments, vitalByKey,
} from '@pamoja/schema';

describe('patient record', () => {
  it('opens a visit with every section created once, as its own Y type', () => {
    const doc = new Y.Doc();
    const v = openVisit(doc, { openedAt: '2026-01-01T08:00:00Z' });
    for (const s of VISIT_SECTION_NAMES) expect(sectionOf(doc, v, s)).toBeInstanceOf(Y.AbstractType);
    expect(sectionOf<Y.Text>(doc, v, 'assessment')).toBeInstanceOf(Y.Text);
    expect(sectionOf(doc, v, 'notes')).toBeInstanceOf(Y.XmlFragment);
    expect(listVisits(doc)).toEqual([{ visitId: v, openedAt: '2026-01-01T08:00:00Z', status: 'REGISTERED', triageCategory: undefined }]);
  });

  it('summarizes demographics, contact and the newest visit', () => {
    const doc = new Y.Doc();
    setDemographics(doc, { opNumber: 'OP-1', firstName: 'A', lastName: 'B', sex: 'female', dateOfBirth: '2000-01-01' });
    setContact(doc, { phone: '+254 700' });
    openVisit(doc, { openedAt: '2026-01-01T08:00:00Z' });
    const newest = openVisit(doc, { openedAt: '2026-02-01T08:00:00Z' });
    const s = summarize('p1', doc);
    expect(s).toMatchObject({ id: 'p1', opNumber: 'OP-1', phone: '+254 700', currentVisit: { visitId: newest } });
  });

  it('lists a returning patient\'s visits newest first, whatever order they were opened in', () => {
    const doc = new Y.Doc();
    const times = ['2026-03-01T09:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-03-01T10:30:00.000Z', '2026-03-01T09:00:00.500Z'];
    const ids = new Map(times.map((t) => [openVisit(doc, { openedAt: t }), t]));
    const listed = listVisits(doc).map((v) => v.openedAt);
    expect(listed).toEqual(['2026-03-01T10:30:00.000Z', '2026-03-01T09:00:00.500Z', '2026-03-01T09:00:00.000Z', '2025-12-31T23:59:59.999Z']);
    expect(listVisits(doc).map((v) => ids.get(v.visitId))).toEqual(listed);
  });

  it('names documents and units stably', () => {
    expect(docNameFor('abc')).toBe('patient:abc');
    expect(patientIdFromDocName('patient:abc')).toBe('abc');
    expect(patientIdFromDocName('patient:../x')).toBeNull();
    expect(unitFromSegments(['visits', 'v1', 'triage'])).toEqual({ path: 'visits/v1/triage', kind: 'visits/*/triage', visitId: 'v1', section: 'triage' });
    expect(unitFromSegments(['visits', 'v1', 'nope'])).toBeNull();
  });
});

describe('field shapes', () => {
  it('checks types, ranges, enums and required fields', () => {
    const vitals = MAP_SPECS['visits/*/vitals']!.keys!;
    expect(checkValue(vitals.temperature!, 37, 'temperature')).toBeNull();
    expect(checkValue(vitals.temperature!, 99, 'temperature')).toMatch(/between/);
    expect(checkValue(vitals.temperature!, NaN, 'temperature')).toMatch(/number/);
    const rx = MAP_SPECS['visits/*/prescriptions']!.entries!;
    expect(checkValue(rx, { drug: 'Amoxicillin' }, 'entry')).toBeNull();
    expect(checkValue(rx, { dose: '5 mg' }, 'entry')).toMatch(/drug is required/);
    expect(checkValue(rx, { drug: 'x', colour: 'red' }, 'entry')).toMatch(/not a known field/);
  });

  it('maps vital signs to LOINC codes with units', () => {
    expect(vitalByKey('heartRate')).toMatchObject({ loinc: '8867-4', unit: 'beats/min' });
    expect(vitalByKey('systolic')?.loinc).toBe('8480-6');
  });

  it('finds ICD-10 codes by code or by name', () => {
    expect(searchIcd10('I10')[0]?.code).toBe('I10');
    expect(searchIcd10('malaria').map((c) => c.code)).toContain('B54');
    expect(searchIcd10('chest pain')[0]?.code).toBe('R07.4');
    expect(searchIcd10('')).toEqual([]);
  });
});
