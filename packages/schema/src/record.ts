// Typed helpers to create, read and write a patient record (one Y.Doc per patient, `patient:<id>`).

import * as Y from 'yjs';
import { VISIT_SECTIONS, VISIT_SECTION_NAMES, type VisitSection } from './units.js';
import type { VisitStatus } from './fields.js';

export const docNameFor = (patientId: string): string => `patient:${patientId}`;

export function patientIdFromDocName(docName: string): string | null {
  const m = /^patient:([A-Za-z0-9_-]{1,64})$/.exec(docName);
  return m ? m[1]! : null;
}

export interface Demographics {
  opNumber: string;
  firstName: string;
  lastName: string;
  otherNames?: string;
  sex: string;
  dateOfBirth: string;
  nationalId?: string;
  registeredAt?: string;
}

export interface Contact {
  phone?: string;
  email?: string;
  address?: string;
  nextOfKinName?: string;
  nextOfKinPhone?: string;
}

export const demographicsOf = (doc: Y.Doc): Y.Map<unknown> => doc.getMap('demographics');
export const contactOf = (doc: Y.Doc): Y.Map<unknown> => doc.getMap('contact');
export const visitsOf = (doc: Y.Doc): Y.Map<Y.Map<unknown>> => doc.getMap('visits');
/** Written by the server only: concurrent overwrites waiting for someone to pick a value. */
export const conflictsOf = (doc: Y.Doc): Y.Map<Conflict> => doc.getMap('conflicts');

export interface ConflictValue {
  value: unknown;
  userId: string | null;
  username: string | null;
  /** The person's display name when the conflict was found. */
  name?: string | null;
  at: string;
}

export interface Conflict {
  id: string;
  /** The field: `<unit path>/<key>` */
  path: string;
  values: ConflictValue[];
  detectedAt: string;
  resolved?: { value: unknown; by: string; at: string };
}

/** A client-side id that sorts by time; good enough for offline-created visits, orders and prescriptions. */
export function newId(): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const bytes = new Uint8Array(10);
  globalThis.crypto.getRandomValues(bytes);
  let rand = '';
  for (const b of bytes) rand += (b % 36).toString(36);
  return `${time}${rand}`;
}

function newSection(kind: (typeof VISIT_SECTIONS)[VisitSection]): Y.AbstractType<any> {
  if (kind === 'map') return new Y.Map();
  if (kind === 'text') return new Y.Text();
  return new Y.XmlFragment();
}

/**
 * Opens a visit: the visit map with every section created once, by the one who opens it, so no two
 * clients ever create the same nested type concurrently (which would lose one of them).
 */
export function openVisit(doc: Y.Doc, opts: { visitId?: string; openedAt?: string; department?: string } = {}): string {
  const visitId = opts.visitId ?? newId();
  const openedAt = opts.openedAt ?? new Date().toISOString();
  doc.transact(() => {
    const visit = new Y.Map<unknown>();
    for (const name of VISIT_SECTION_NAMES) visit.set(name, newSection(VISIT_SECTIONS[name]));
    visitsOf(doc).set(visitId, visit);
    const reg = visit.get('registration') as Y.Map<unknown>;
    reg.set('visitId', visitId);
    reg.set('openedAt', openedAt);
    if (opts.department) reg.set('department', opts.department);
    (visit.get('workflow') as Y.Map<unknown>).set('status', 'REGISTERED');
    (visit.get('workflow') as Y.Map<unknown>).set('updatedAt', openedAt);
  });
  return visitId;
}

export function visitOf(doc: Y.Doc, visitId: string): Y.Map<unknown> | undefined {
  return visitsOf(doc).get(visitId);
}

export function sectionOf<T extends Y.AbstractType<any> = Y.Map<unknown>>(
  doc: Y.Doc, visitId: string, section: VisitSection,
): T | undefined {
  return visitOf(doc, visitId)?.get(section) as T | undefined;
}

export function setDemographics(doc: Y.Doc, d: Partial<Demographics>): void {
  const m = demographicsOf(doc);
  doc.transact(() => {
    for (const [k, v] of Object.entries(d)) if (v !== undefined) m.set(k, v);
  });
}

export function setContact(doc: Y.Doc, c: Contact): void {
  const m = contactOf(doc);
  doc.transact(() => {
    for (const [k, v] of Object.entries(c)) if (v !== undefined) m.set(k, v);
  });
}

export interface VisitSummary {
  visitId: string;
  openedAt: string;
  status: VisitStatus;
  triageCategory?: string;
}

/**
 * Visits, newest first. `openedAt` is an ISO timestamp, so comparing code units orders it by time;
 * `localeCompare` would load ICU's collation tables into the server (about 3 MB resident) for nothing.
 */
export function listVisits(doc: Y.Doc): VisitSummary[] {
  const out: VisitSummary[] = [];
  visitsOf(doc).forEach((visit, visitId) => {
    if (!(visit instanceof Y.Map)) return;
    const reg = visit.get('registration') as Y.Map<unknown> | undefined;
    const wf = visit.get('workflow') as Y.Map<unknown> | undefined;
    const tri = visit.get('triage') as Y.Map<unknown> | undefined;
    out.push({
      visitId,
      openedAt: String(reg?.get('openedAt') ?? ''),
      status: (wf?.get('status') as VisitStatus) ?? 'REGISTERED',
      triageCategory: tri?.get('category') as string | undefined,
    });
  });
  return out.sort((a, b) => (a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : 0));
}

export function currentVisit(doc: Y.Doc): VisitSummary | undefined {
  return listVisits(doc)[0];
}

export interface PatientSummary {
  id: string;
  opNumber: string;
  firstName: string;
  lastName: string;
  sex: string;
  dateOfBirth: string;
  phone: string;
  currentVisit: VisitSummary | null;
}

export function summarize(patientId: string, doc: Y.Doc): PatientSummary {
  const d = demographicsOf(doc);
  const s = (k: string): string => String(d.get(k) ?? '');
  return {
    id: patientId,
    opNumber: s('opNumber'),
    firstName: s('firstName'),
    lastName: s('lastName'),
    sex: s('sex'),
    dateOfBirth: s('dateOfBirth'),
    phone: String(contactOf(doc).get('phone') ?? ''),
    currentVisit: currentVisit(doc) ?? null,
  };
}
