// Random but valid-looking clinic edits, with a small share of forbidden ones (which the server reverts),
// so convergence is tested through reverts and conflicts as well as plain merges.

import type * as Y from 'yjs';
import { sectionOf } from '@pamoja/schema';

const WORDS = ['fever', 'cough', 'headache', 'vomiting', 'stable', 'alert', 'pale', 'febrile', 'no rash'];
const VITALS = ['heartRate', 'respiratoryRate', 'systolic', 'diastolic', 'spo2', 'weight', 'height'];
const DX = ['dx1', 'dx2', 'dx3', 'dx4', 'dx5'];

export type Role = 'nurse' | 'clinician';

export function randomEdit(doc: Y.Doc, visitId: string, role: Role, rand: () => number): void {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const r = rand();
  const vitals = sectionOf(doc, visitId, 'vitals');
  const dx = sectionOf(doc, visitId, 'diagnoses');
  if (!vitals || !dx) return; // not synced yet
  if (role === 'nurse') {
    const text = sectionOf<Y.Text>(doc, visitId, 'assessment')!;
    if (r < 0.4) vitals.set(pick(VITALS), 40 + Math.floor(rand() * 60));
    else if (r < 0.7) text.insert(Math.floor(rand() * (text.length + 1)), `${pick(WORDS)} `);
    else if (r < 0.8 && text.length > 0) {
      const at = Math.floor(rand() * text.length);
      text.delete(at, Math.min(1 + Math.floor(rand() * 5), text.length - at));
    } else if (r < 0.9) sectionOf(doc, visitId, 'triage')!.set('chiefComplaint', pick(WORDS));
    else dx.set(pick(DX), { code: 'R50', display: 'Fever (written by a nurse: refused)' });
    return;
  }
  if (r < 0.4) dx.set(pick(DX), { code: pick(['B54', 'J06.9', 'A09']), display: pick(WORDS), certainty: 'PROVISIONAL' });
  else if (r < 0.6) {
    const k = pick(DX);
    if (dx.has(k)) dx.delete(k);
  } else if (r < 0.8) sectionOf(doc, visitId, 'consultation')!.set('plan', `${pick(WORDS)} ${Math.floor(rand() * 100)}`);
  else if (r < 0.9) sectionOf(doc, visitId, 'consultation')!.set('followUp', pick(WORDS));
  else vitals.set('heartRate', 77); // a clinician may not write vitals: refused and reverted
}
