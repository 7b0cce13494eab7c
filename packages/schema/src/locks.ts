// Fields the server locks for one editor at a time: single values where two people typing at once
// would be dangerous. The server grants locks only on these; the web app asks for them on focus.

export const LOCKABLE_FIELDS: readonly RegExp[] = [
  /^visits\/[^/]+\/triage\/category$/,
  /^visits\/[^/]+\/diagnoses$/,
  /^visits\/[^/]+\/billing\/(paymentStatus|amountPaid|amountDue)$/,
  /^visits\/[^/]+\/payments$/,
];

/** True for a field (or unit) path that can be locked, e.g. `visits/<id>/triage/category`. */
export function isLockable(path: string): boolean {
  return LOCKABLE_FIELDS.some((re) => re.test(path));
}
