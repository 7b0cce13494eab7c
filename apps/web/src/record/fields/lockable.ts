// Fields the server locks for one editor at a time (mirrors LOCKABLE in apps/sync-server/src/sync/locks.ts):
// single values where two people typing at once would be dangerous.
const LOCKABLE = [
  /^visits\/[^/]+\/triage\/category$/,
  /^visits\/[^/]+\/diagnoses$/,
  /^visits\/[^/]+\/billing\/(paymentStatus|amountPaid|amountDue)$/,
  /^visits\/[^/]+\/payments$/,
];

export function isLockable(path: string): boolean {
  return LOCKABLE.some((re) => re.test(path));
}
