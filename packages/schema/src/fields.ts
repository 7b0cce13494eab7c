// What each map unit may hold: known keys and the shape of their values. The server refuses anything else.

import { notJsonData } from './json.js';

export type FieldSpec =
  | { type: 'string'; max: number; enum?: readonly string[] }
  | { type: 'number'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'record'; fields: Record<string, FieldSpec>; required?: readonly string[] };

export interface MapSpec {
  /** Fixed keys and their value shapes. */
  keys?: Record<string, FieldSpec>;
  /** For maps keyed by a client-generated id (diagnoses, prescriptions ...): the shape of each entry. */
  entries?: FieldSpec;
  /** Maximum number of entries for id-keyed maps. */
  maxEntries?: number;
}

const str = (max: number, values?: readonly string[]): FieldSpec =>
  values ? { type: 'string', max, enum: values } : { type: 'string', max };
const num = (min: number, max: number): FieldSpec => ({ type: 'number', min, max });
const rec = (fields: Record<string, FieldSpec>, required?: readonly string[]): FieldSpec =>
  required ? { type: 'record', fields, required } : { type: 'record', fields };

export const SEXES = ['female', 'male', 'other', 'unknown'] as const;
export const TRIAGE_CATEGORIES = ['EMERGENCY', 'URGENT', 'SEMI_URGENT', 'NON_URGENT'] as const;
export const VISIT_STATUSES = [
  'REGISTERED', 'TRIAGE', 'CONSULTATION', 'LAB', 'PHARMACY', 'PAYMENT', 'COMPLETED',
] as const;
export type VisitStatus = (typeof VISIT_STATUSES)[number];
export const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const PAYMENT_TYPES = ['CASH', 'INSURANCE', 'MOBILE_MONEY', 'WAIVER'] as const;
export const PAYMENT_STATUSES = ['PENDING', 'PARTIAL', 'PAID', 'WAIVED'] as const;
export const DISPENSE_STATUSES = ['PENDING', 'DISPENSED', 'PARTIAL', 'OUT_OF_STOCK', 'CANCELLED'] as const;
export const LAB_RESULT_STATUSES = ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED'] as const;
export const LAB_FLAGS = ['NORMAL', 'LOW', 'HIGH', 'CRITICAL'] as const;
export const DIAGNOSIS_CERTAINTY = ['PROVISIONAL', 'CONFIRMED', 'DIFFERENTIAL'] as const;

const iso = str(40);

export const MAP_SPECS: Record<string, MapSpec> = {
  demographics: {
    keys: {
      opNumber: str(32), firstName: str(100), lastName: str(100), otherNames: str(100),
      sex: str(10, SEXES), dateOfBirth: str(10), nationalId: str(40), registeredAt: iso,
    },
  },
  contact: {
    keys: {
      phone: str(32), email: str(120), address: str(300),
      nextOfKinName: str(120), nextOfKinPhone: str(32),
    },
  },
  'visits/*/registration': {
    keys: {
      visitId: str(64), openedAt: iso, department: str(80),
      paymentType: str(20, PAYMENT_TYPES), paymentReference: str(80),
    },
  },
  'visits/*/triage': {
    keys: {
      category: str(20, TRIAGE_CATEGORIES), chiefComplaint: str(500), triagedAt: iso,
    },
  },
  'visits/*/vitals': {
    keys: {
      temperature: num(25, 45), heartRate: num(0, 300), respiratoryRate: num(0, 120),
      systolic: num(0, 300), diastolic: num(0, 200), spo2: num(0, 100),
      weight: num(0, 500), height: num(0, 280), painScore: num(0, 10), recordedAt: iso,
    },
  },
  'visits/*/consultation': {
    keys: { startedAt: iso, plan: str(2000), followUp: str(200) },
  },
  'visits/*/diagnoses': {
    entries: rec({ code: str(10), display: str(200), certainty: str(20, DIAGNOSIS_CERTAINTY), at: iso }, ['code']),
    maxEntries: 50,
  },
  'visits/*/prescriptions': {
    entries: rec({
      drug: str(200), dose: str(60), route: str(40), frequency: str(60),
      durationDays: num(0, 365), quantity: num(0, 10000), instructions: str(500), at: iso,
    }, ['drug']),
    maxEntries: 100,
  },
  'visits/*/dispensing': {
    entries: rec({
      status: str(20, DISPENSE_STATUSES), quantity: num(0, 10000), dispensedAt: iso, notes: str(500),
    }, ['status']),
    maxEntries: 100,
  },
  'visits/*/labOrders': {
    entries: rec({
      test: str(120), loinc: str(20), priority: str(10, PRIORITIES), notes: str(500), at: iso,
    }, ['test']),
    maxEntries: 100,
  },
  'visits/*/labResults': {
    entries: rec({
      status: str(20, LAB_RESULT_STATUSES), value: str(200), unit: str(40),
      referenceRange: str(80), flag: str(10, LAB_FLAGS), notes: str(1000), resultedAt: iso,
    }, ['status']),
    maxEntries: 100,
  },
  'visits/*/billing': {
    keys: { paymentStatus: str(10, PAYMENT_STATUSES), amountDue: num(0, 1e9), amountPaid: num(0, 1e9), currency: str(3) },
  },
  'visits/*/payments': {
    entries: rec({ amount: num(0, 1e9), method: str(20, PAYMENT_TYPES), reference: str(80), at: iso }, ['amount']),
    maxEntries: 100,
  },
  'visits/*/workflow': {
    keys: { status: str(20, VISIT_STATUSES), updatedAt: iso },
  },
};

/**
 * Largest a text section (the assessment) or the notes may be, in characters: the text, and the names
 * and values (as JSON) of its formatting and attributes, and the notes' element names.
 */
export const MAX_TEXT_LENGTH = 100_000;

/** The spec of a map unit kind (vitals, diagnoses ...), own entries only: `constructor` is not a unit. */
export function mapSpecOf(kind: string): MapSpec | undefined {
  return Object.hasOwn(MAP_SPECS, kind) ? MAP_SPECS[kind] : undefined;
}

/** The shape of a fixed key of a map unit, own keys only: `toString` is not a field. */
export function fieldSpecOf(spec: MapSpec, key: string): FieldSpec | undefined {
  return spec.keys && Object.hasOwn(spec.keys, key) ? spec.keys[key] : undefined;
}

/** Checks a plain value against a spec; returns a reason when it does not fit. */
export function checkValue(spec: FieldSpec, value: unknown, name: string): string | null {
  const odd = notJsonData(value);
  if (odd) return `${name} cannot hold ${odd}`;
  return checkShape(spec, value, name);
}

/** checkValue, for a value known to be JSON data. */
function checkShape(spec: FieldSpec, value: unknown, name: string): string | null {
  switch (spec?.type) {
    case 'string':
      if (typeof value !== 'string') return `${name} must be text`;
      if (value.length > spec.max) return `${name} is longer than ${spec.max} characters`;
      if (spec.enum && !spec.enum.includes(value)) return `${name} must be one of ${spec.enum.join(', ')}`;
      return null;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a number`;
      if (value < spec.min || value > spec.max) return `${name} must be between ${spec.min} and ${spec.max}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${name} must be true or false`;
    case 'record': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${name} must be an object`;
      for (const [k, v] of Object.entries(value)) {
        const sub = Object.hasOwn(spec.fields, k) ? spec.fields[k] : undefined;
        if (!sub) return `${name}.${k} is not a known field`;
        if (v === null || v === undefined) continue;
        const bad = checkShape(sub, v, `${name}.${k}`);
        if (bad) return bad;
      }
      for (const k of spec.required ?? []) {
        if (!Object.hasOwn(value, k) || (value as Record<string, unknown>)[k] === undefined) return `${name}.${k} is required`;
      }
      return null;
    }
    default:
      // A spec this code does not know (or no spec at all) must refuse, never wave the value through.
      return `${name} cannot be checked, so it is not accepted`;
  }
}
