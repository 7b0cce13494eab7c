// One representative write per unit of the record, each carrying a marker string where the field
// can hold text: the attack suite uses them to try every role against every unit. Markers go in
// values, never in map keys: a refused entry's key stays in the document as a tombstone (deleted, no
// content), which is how Yjs records any deletion.

import * as Y from 'yjs';
import { visitOf, visitsOf, type UnitKind } from '@pamoja/schema';

type Write = (doc: Y.Doc, visitId: string, marker: string) => void;

const section = (doc: Y.Doc, v: string, s: string): Y.Map<unknown> => visitOf(doc, v)!.get(s) as Y.Map<unknown>;

export const WRITES: Record<UnitKind, Write> = {
  demographics: (d, _v, m) => d.getMap('demographics').set('otherNames', m),
  contact: (d, _v, m) => d.getMap('contact').set('address', m),
  visits: (d, _v, m) => {
    const visit = new Y.Map<unknown>();
    visitsOf(d).set(key(), visit);
    visit.set('registration', new Y.Map());
  },
  'visits/*': (d, v, m) => {
    const replacement = new Y.Map<unknown>();
    visitOf(d, v)!.set('triage', replacement);
    replacement.set('chiefComplaint', m);
  },
  conflicts: (d, _v, m) => d.getMap('conflicts').set(key(), { id: m, path: 'x', values: [], detectedAt: m }),
  'visits/*/registration': (d, v, m) => section(d, v, 'registration').set('department', m),
  'visits/*/triage': (d, v, m) => section(d, v, 'triage').set('chiefComplaint', m),
  'visits/*/vitals': (d, v, m) => section(d, v, 'vitals').set('recordedAt', m),
  'visits/*/assessment': (d, v, m) => (visitOf(d, v)!.get('assessment') as Y.Text).insert(0, m),
  'visits/*/consultation': (d, v, m) => section(d, v, 'consultation').set('plan', m),
  'visits/*/notes': (d, v, m) => {
    const p = new Y.XmlElement('paragraph');
    p.insert(0, [new Y.XmlText(m)]);
    (visitOf(d, v)!.get('notes') as Y.XmlFragment).insert(0, [p]);
  },
  'visits/*/diagnoses': (d, v, m) => section(d, v, 'diagnoses').set(key(), { code: 'B54', display: m }),
  'visits/*/prescriptions': (d, v, m) => section(d, v, 'prescriptions').set(key(), { drug: m }),
  'visits/*/dispensing': (d, v, m) => section(d, v, 'dispensing').set(key(), { status: 'DISPENSED', notes: m }),
  'visits/*/labOrders': (d, v, m) => section(d, v, 'labOrders').set(key(), { test: m }),
  'visits/*/labResults': (d, v, m) => section(d, v, 'labResults').set(key(), { status: 'COMPLETED', value: m }),
  'visits/*/billing': (d, v) => section(d, v, 'billing').set('amountPaid', 4242),
  'visits/*/payments': (d, v, m) => section(d, v, 'payments').set(key(), { amount: 100, reference: m }),
  // No role may jump a visit from triage straight to completed.
  'visits/*/workflow': (d, v) => section(d, v, 'workflow').set('status', 'COMPLETED'),
};

let n = 0;
const key = (): string => `k${Date.now().toString(36)}${(n++).toString(36)}`;
export const marker = (): string => `MK${Date.now().toString(36)}x${(n++).toString(36)}`;
export { key as entryKey };
