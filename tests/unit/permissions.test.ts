// The permission matrix, checked exhaustively against the clinic's rules as the issue states them.

import { describe, expect, it } from 'vitest';
import {
  ROLES, TRANSITIONS, WRITE_MATRIX, canTransition, canWrite, canWriteKind, nextSteps, refusalReason, writableKinds, type Role,
} from '@pamoja/permissions';
import { UNIT_KINDS, VISIT_STATUSES, parseUnitPath, type UnitKind } from '@pamoja/schema';

/** Written out by hand from the clinic's rules, independently of WRITE_MATRIX. */
const OWNS: Record<Role, UnitKind[]> = {
  RECEPTIONIST: ['demographics', 'contact', 'visits', 'visits/*', 'visits/*/registration', 'visits/*/workflow'],
  NURSE: ['visits/*/triage', 'visits/*/vitals', 'visits/*/assessment', 'visits/*/workflow'],
  CLINICAL_OFFICER: ['visits/*/consultation', 'visits/*/notes', 'visits/*/diagnoses', 'visits/*/prescriptions', 'visits/*/labOrders', 'visits/*/workflow'],
  LAB_TECHNICIAN: ['visits/*/labResults', 'visits/*/workflow'],
  PHARMACIST: ['visits/*/dispensing', 'visits/*/workflow'],
  CASHIER: ['visits/*/billing', 'visits/*/payments', 'visits/*/workflow'],
  ADMIN: [],
};

describe('write matrix', () => {
  for (const role of ROLES) {
    for (const kind of UNIT_KINDS) {
      const expected = OWNS[role].includes(kind);
      it(`${role} ${expected ? 'may' : 'may not'} write ${kind}`, () => {
        expect(canWriteKind(role, kind)).toBe(expected);
        const path = kind.replace('*', 'v123');
        expect(canWrite(role, path)).toBe(expected);
      });
    }
  }

  it('has a row for every unit and names only known roles', () => {
    expect(Object.keys(WRITE_MATRIX).sort()).toEqual([...UNIT_KINDS].sort());
    for (const roles of Object.values(WRITE_MATRIX)) for (const r of roles) expect(ROLES).toContain(r);
  });

  it('nobody but the server writes the conflict list', () => {
    for (const role of ROLES) expect(canWrite(role, 'conflicts')).toBe(false);
  });

  it('refuses paths that are not units', () => {
    for (const p of ['', 'visits/v1/triage/category', 'visits/v1/unknown', 'patients', 'visits//triage', '../demographics']) {
      for (const role of ROLES) expect(canWrite(role, p)).toBe(false);
    }
    expect(parseUnitPath('visits/v1/unknown')).toBeNull();
  });

  it('names every object has (constructor, toString, __proto__) are no units: nobody writes them, and asking does not throw', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      for (const role of ROLES) expect(canWriteKind(role, name as UnitKind)).toBe(false);
      expect(refusalReason('NURSE', name as UnitKind)).toMatch('not part of a patient record');
    }
  });

  it('explains a refusal in words, naming who may write', () => {
    expect(refusalReason('NURSE', 'visits/*/diagnoses')).toBe('Nurses cannot change the diagnoses (only clinical officer may)');
    expect(refusalReason('CASHIER', 'conflicts')).toMatch(/only the server writes it/);
  });

  it('lists what each role may write', () => {
    for (const role of ROLES) expect(writableKinds(role).sort()).toEqual([...OWNS[role]].sort());
  });
});

describe('workflow transitions', () => {
  const allowed = new Set(TRANSITIONS.map((t) => `${t.role}:${t.from}->${t.to}`));
  for (const role of ROLES) {
    for (const from of [null, ...VISIT_STATUSES]) {
      for (const to of VISIT_STATUSES) {
        const key = `${role}:${from}->${to}`;
        if (!allowed.has(key)) continue;
        it(`${role} may move a visit ${from ?? '(new)'} -> ${to}`, () => expect(canTransition(role, from, to)).toBe(true));
      }
    }
  }

  it('allows exactly the listed transitions and nothing else', () => {
    let count = 0;
    for (const role of ROLES) for (const from of [null, ...VISIT_STATUSES]) for (const to of VISIT_STATUSES) {
      const ok = canTransition(role, from, to);
      expect(ok).toBe(allowed.has(`${role}:${from}->${to}`));
      if (ok) count++;
    }
    expect(count).toBe(TRANSITIONS.length);
  });

  it('gives each step to the role that ends it', () => {
    expect(nextSteps('NURSE', 'TRIAGE')).toEqual(['CONSULTATION']);
    expect(nextSteps('CLINICAL_OFFICER', 'CONSULTATION').sort()).toEqual(['LAB', 'PAYMENT', 'PHARMACY']);
    expect(nextSteps('CASHIER', 'PAYMENT')).toEqual(['COMPLETED']);
    expect(nextSteps('ADMIN', 'PAYMENT')).toEqual([]);
    expect(canTransition('NURSE', 'TRIAGE', 'COMPLETED')).toBe(false);
  });
});
