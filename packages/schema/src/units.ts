// The permission units of a patient record: every part one role writes is its own Y type, named here.
// A unit path is stable: `demographics`, `contact`, `visits`, `visits/<visitId>`, `visits/<visitId>/<section>`.

export const ROOT_UNITS = ['demographics', 'contact', 'visits', 'conflicts'] as const;
export type RootUnit = (typeof ROOT_UNITS)[number];

/** Sections of one visit, each its own Y type, and the Y type it must be. */
export const VISIT_SECTIONS = {
  registration: 'map',
  triage: 'map',
  vitals: 'map',
  assessment: 'text',
  consultation: 'map',
  notes: 'xml',
  diagnoses: 'map',
  prescriptions: 'map',
  dispensing: 'map',
  labOrders: 'map',
  labResults: 'map',
  billing: 'map',
  payments: 'map',
  workflow: 'map',
} as const satisfies Record<string, 'map' | 'text' | 'xml'>;

export type VisitSection = keyof typeof VISIT_SECTIONS;
export const VISIT_SECTION_NAMES = Object.keys(VISIT_SECTIONS) as VisitSection[];

/** A unit kind: the path with the visit id replaced by `*`, used by the permission matrix. */
export type UnitKind = RootUnit | 'visits/*' | `visits/*/${VisitSection}`;

export const UNIT_KINDS: UnitKind[] = [
  ...ROOT_UNITS,
  'visits/*',
  ...VISIT_SECTION_NAMES.map((s) => `visits/*/${s}` as const),
];

export interface UnitPath {
  /** e.g. `visits/01J.../triage` */
  path: string;
  kind: UnitKind;
  visitId?: string;
  section?: VisitSection;
}

export function isVisitSection(name: string): name is VisitSection {
  return Object.prototype.hasOwnProperty.call(VISIT_SECTIONS, name);
}

/** Turns a list of names from the root (`['visits', id, 'triage']`) into a unit, or null if it is not one. */
export function unitFromSegments(segments: readonly string[]): UnitPath | null {
  const [root, visitId, section] = segments;
  if (segments.length === 1 && (ROOT_UNITS as readonly string[]).includes(root!)) {
    return { path: root!, kind: root as RootUnit };
  }
  if (root !== 'visits' || !visitId) return null;
  if (segments.length === 2) return { path: `visits/${visitId}`, kind: 'visits/*', visitId };
  if (segments.length === 3 && section && isVisitSection(section)) {
    return { path: `visits/${visitId}/${section}`, kind: `visits/*/${section}`, visitId, section };
  }
  return null;
}

export function parseUnitPath(path: string): UnitPath | null {
  return unitFromSegments(path.split('/'));
}
