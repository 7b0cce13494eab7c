import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  MAP_SPECS, VISIT_SECTION_NAMES, checkValue, docNameFor, fieldSpecOf, jsonText, listVisits, mapSpecOf, notJsonData,
  openVisit, patientIdFromDocName, searchIcd10, sectionOf, summarize, setContact, setDemographics, textSize,
  unitFromSegments, vitalByKey, type FieldSpec,
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

  it('knows only its own fields and units: names every object has (constructor, toString, __proto__) are none', () => {
    const vitals = MAP_SPECS['visits/*/vitals']!;
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(fieldSpecOf(vitals, name), name).toBeUndefined();
      expect(mapSpecOf(name), name).toBeUndefined();
    }
    expect(fieldSpecOf(vitals, 'heartRate')).toEqual({ type: 'number', min: 0, max: 300 });
    expect(mapSpecOf('visits/*/vitals')).toBe(vitals);
    const dx = MAP_SPECS['visits/*/diagnoses']!.entries!;
    const big = { junk: 'x'.repeat(1000) };
    expect(checkValue(dx, { code: 'I10', constructor: big }, 'entry')).toMatch('entry.constructor is not a known field');
    expect(checkValue(dx, { code: 'I10', toString: 'x' }, 'entry')).toMatch('entry.toString is not a known field');
    // A required field found only through the object's prototype is not there.
    expect(checkValue(dx, Object.create({ code: 'I10' }) as object, 'entry')).toMatch(/entry/);
  });

  it('refuses a value for a spec of a type it does not know, rather than letting it through', () => {
    expect(checkValue({ type: 'date' } as unknown as FieldSpec, '2026-01-01', 'seen')).toMatch('seen cannot be checked');
    expect(checkValue(Object as unknown as FieldSpec, { junk: 1 }, 'constructor')).toMatch('cannot be checked');
  });

  it('refuses values that are not JSON data (a BigInt, binary data, an object with another prototype), naming what was sent', () => {
    const vitals = MAP_SPECS['visits/*/vitals']!.keys!;
    expect(checkValue(vitals.heartRate!, 72n, 'heartRate')).toBe('heartRate cannot hold a BigInt');
    const results = MAP_SPECS['visits/*/labResults']!.entries!;
    expect(checkValue(results, { status: 'COMPLETED', value: 5n }, 'entry')).toBe('entry cannot hold a BigInt');
    expect(checkValue(results, { status: 'COMPLETED', value: new Uint8Array(4) }, 'entry')).toBe('entry cannot hold binary data');
    // How lib0 decodes {"__proto__": {...}}: the key swaps the prototype.
    const swapped = { status: 'PENDING' };
    Object.setPrototypeOf(swapped, { value: 'x'.repeat(1000) });
    expect(checkValue(results, swapped, 'entry')).toBe('entry cannot hold an object that is not plain data');
    // A field set to undefined is absent, as in JSON: the web app clears a result's flag that way.
    expect(checkValue(results, { status: 'COMPLETED', flag: undefined }, 'entry')).toBeNull();
    expect(notJsonData({ a: [1, 'b', null, { c: true }] })).toBeNull();
    expect(notJsonData(Infinity)).toBe('a number that is not finite');
  });

  it('writes any value as JSON text without throwing', () => {
    expect(jsonText(72n)).toBe('"72n"');
    expect(jsonText({ heartRate: 72n, raw: new Uint8Array(3) })).toBe('{"heartRate":"72n","raw":"(binary, 3 bytes)"}');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(jsonText(loop)).toMatch(/^\(a value that cannot be written as JSON/);
    expect(jsonText({ code: 'I10' })).toBe(JSON.stringify({ code: 'I10' }));
  });

  it('sizes text and notes with their formatting, attributes and element names', () => {
    const doc = new Y.Doc();
    const text = doc.getText('t');
    text.insert(0, 'Alert', { comment: 'abc' });
    // 5 characters, plus where the comment starts ('comment' and its value) and ends ('comment').
    expect(textSize(text)).toBe(5 + 'comment'.length + 'abc'.length + 'comment'.length);
    const notes = doc.getXmlFragment('n');
    const p = new Y.XmlElement('paragraph');
    p.setAttribute('data-x', 'yz');
    p.insert(0, [new Y.XmlText('hello')]);
    notes.insert(0, [p]);
    expect(textSize(notes)).toBe('paragraph'.length + 'data-x'.length + 'yz'.length + 'hello'.length);
    // Counting stops once past the cap.
    text.insert(0, 'z'.repeat(1000));
    expect(textSize(text)).toBe(1022);
    expect(textSize(text, 10)).toBe(1000);
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
