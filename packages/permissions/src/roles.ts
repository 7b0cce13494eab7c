// The staff roles of a clinic and how a person reads them.

export const ROLES = [
  'RECEPTIONIST', 'NURSE', 'CLINICAL_OFFICER', 'LAB_TECHNICIAN', 'PHARMACIST', 'CASHIER', 'ADMIN',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  RECEPTIONIST: 'Receptionist',
  NURSE: 'Nurse',
  CLINICAL_OFFICER: 'Clinical officer',
  LAB_TECHNICIAN: 'Lab technician',
  PHARMACIST: 'Pharmacist',
  CASHIER: 'Cashier',
  ADMIN: 'Administrator',
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
