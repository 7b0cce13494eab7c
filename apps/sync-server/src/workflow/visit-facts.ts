// Reads what the workflow needs to know about a visit straight from its record (the Y.Doc).

import type * as Y from 'yjs';
import { sectionOf, demographicsOf, type VisitStatus } from '@pamoja/schema';
import type { Priority } from '@pamoja/schema';
import { higher, isPriority, priorityFromTriage } from './priority.js';

export interface LabOrder {
  id: string;
  test: string;
  priority: Priority | null;
}

export interface LabResult {
  id: string;
  status: string;
  flag: string | null;
  value: string | null;
  unit: string | null;
}

export interface VisitFacts {
  exists: boolean;
  status: VisitStatus | null;
  triageCategory: string | null;
  chiefComplaint: string | null;
  patientName: string;
  opNumber: string;
  labOrders: LabOrder[];
  labResults: LabResult[];
  prescriptionCount: number;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function entries(doc: Y.Doc, visitId: string, section: 'labOrders' | 'labResults' | 'prescriptions'): [string, Record<string, unknown>][] {
  const m = sectionOf(doc, visitId, section);
  if (!m) return [];
  const out: [string, Record<string, unknown>][] = [];
  m.forEach((v, k) => {
    if (v && typeof v === 'object') out.push([k, v as Record<string, unknown>]);
  });
  return out;
}

export function readVisit(doc: Y.Doc, visitId: string): VisitFacts {
  const wf = sectionOf(doc, visitId, 'workflow');
  const tri = sectionOf(doc, visitId, 'triage');
  const d = demographicsOf(doc);
  return {
    exists: wf !== undefined,
    status: (str(wf?.get('status')) as VisitStatus | null) ?? null,
    triageCategory: str(tri?.get('category')),
    chiefComplaint: str(tri?.get('chiefComplaint')),
    patientName: `${str(d.get('firstName')) ?? ''} ${str(d.get('lastName')) ?? ''}`.trim() || 'A patient',
    opNumber: str(d.get('opNumber')) ?? '',
    labOrders: entries(doc, visitId, 'labOrders').map(([id, o]) => ({
      id, test: str(o.test) ?? 'a test', priority: isPriority(o.priority) ? o.priority : null,
    })),
    labResults: entries(doc, visitId, 'labResults').map(([id, r]) => ({
      id, status: str(r.status) ?? 'PENDING', flag: str(r.flag), value: str(r.value), unit: str(r.unit),
    })),
    prescriptionCount: entries(doc, visitId, 'prescriptions').length,
  };
}

/** The queue priority for a step: triage sets it; in the lab an urgent order raises it. */
export function priorityFor(facts: VisitFacts, step: VisitStatus): Priority {
  let p = priorityFromTriage(facts.triageCategory);
  if (step === 'LAB') for (const o of facts.labOrders) if (o.priority) p = higher(p, o.priority);
  return p;
}
