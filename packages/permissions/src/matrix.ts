// The permission matrix: which role writes which unit of the record. One table, read by the server
// (which enforces it) and the web app (which greys out what the server would refuse).

import { parseUnitPath, type UnitKind, type VisitSection } from '@pamoja/schema';
import { ROLE_LABELS, type Role } from './roles.js';

export const WRITE_MATRIX: Record<UnitKind, readonly Role[]> = {
  demographics: ['RECEPTIONIST'],
  contact: ['RECEPTIONIST'],
  visits: ['RECEPTIONIST'],
  'visits/*': ['RECEPTIONIST'],
  conflicts: [],
  'visits/*/registration': ['RECEPTIONIST'],
  'visits/*/triage': ['NURSE'],
  'visits/*/vitals': ['NURSE'],
  'visits/*/assessment': ['NURSE'],
  'visits/*/consultation': ['CLINICAL_OFFICER'],
  'visits/*/notes': ['CLINICAL_OFFICER'],
  'visits/*/diagnoses': ['CLINICAL_OFFICER'],
  'visits/*/prescriptions': ['CLINICAL_OFFICER'],
  'visits/*/labOrders': ['CLINICAL_OFFICER'],
  'visits/*/labResults': ['LAB_TECHNICIAN'],
  'visits/*/dispensing': ['PHARMACIST'],
  'visits/*/billing': ['CASHIER'],
  'visits/*/payments': ['CASHIER'],
  // Every clinical role moves the visit on; which move each may make is `canTransition`.
  'visits/*/workflow': ['RECEPTIONIST', 'NURSE', 'CLINICAL_OFFICER', 'LAB_TECHNICIAN', 'PHARMACIST', 'CASHIER'],
};

/** How a person names each unit, for refusals and the audit. */
export const UNIT_LABELS: Record<UnitKind, string> = {
  demographics: 'demographics',
  contact: 'contact details',
  visits: 'the list of visits',
  'visits/*': 'the visit',
  conflicts: 'the conflict list',
  'visits/*/registration': 'registration',
  'visits/*/triage': 'triage',
  'visits/*/vitals': 'vital signs',
  'visits/*/assessment': 'the initial assessment',
  'visits/*/consultation': 'the consultation',
  'visits/*/notes': 'the consultation notes',
  'visits/*/diagnoses': 'the diagnoses',
  'visits/*/prescriptions': 'prescriptions',
  'visits/*/labOrders': 'lab orders',
  'visits/*/labResults': 'lab results',
  'visits/*/dispensing': 'dispensing',
  'visits/*/billing': 'billing',
  'visits/*/payments': 'payments',
  'visits/*/workflow': 'the visit status',
};

/** Own entries only: a kind named like an Object member (`constructor`) is no unit, and nobody writes it. */
export function canWriteKind(role: Role, kind: UnitKind): boolean {
  return Object.hasOwn(WRITE_MATRIX, kind) && WRITE_MATRIX[kind].includes(role);
}

/** May `role` write the unit at `path` (e.g. `visits/abc/triage`)? Unknown paths: no. */
export function canWrite(role: Role, path: string): boolean {
  const unit = parseUnitPath(path);
  return unit !== null && canWriteKind(role, unit.kind);
}

/** Every staff role may read the whole record; the audit records who opened it. */
export function canRead(_role: Role, _path: string): boolean {
  return true;
}

export function canWriteSection(role: Role, section: VisitSection): boolean {
  return canWriteKind(role, `visits/*/${section}`);
}

/** The sentence shown when a write is refused: "Nurses cannot change the diagnoses". */
export function refusalReason(role: Role, kind: UnitKind): string {
  const who = ROLE_LABELS[role];
  if (!Object.hasOwn(WRITE_MATRIX, kind)) return `${who}s cannot change "${kind}": it is not part of a patient record`;
  const writers = WRITE_MATRIX[kind].map((r) => ROLE_LABELS[r].toLowerCase());
  const by = writers.length ? ` (only ${writers.join(' or ')} may)` : ' (only the server writes it)';
  return `${who}s cannot change ${UNIT_LABELS[kind]}${by}`;
}

/** The units a role may write, for building forms. */
export function writableKinds(role: Role): UnitKind[] {
  return (Object.keys(WRITE_MATRIX) as UnitKind[]).filter((k) => canWriteKind(role, k));
}
