// How urgent a waiting patient is: from the nurse's triage category, raised by urgent lab orders.

import { PRIORITIES, type Priority } from '@pamoja/schema';

const FROM_TRIAGE: Record<string, Priority> = {
  EMERGENCY: 'URGENT',
  URGENT: 'HIGH',
  SEMI_URGENT: 'NORMAL',
  NON_URGENT: 'LOW',
};

/** Higher is more urgent; worklists sort on it. */
export const priorityRank = (p: string): number => Math.max(0, (PRIORITIES as readonly string[]).indexOf(p));

export function higher(a: Priority, b: Priority): Priority {
  return priorityRank(a) >= priorityRank(b) ? a : b;
}

/** Before triage nobody knows yet, so a patient waits as NORMAL. */
export function priorityFromTriage(category: string | null | undefined): Priority {
  return (category && FROM_TRIAGE[category]) || 'NORMAL';
}

export function isPriority(v: unknown): v is Priority {
  return typeof v === 'string' && (PRIORITIES as readonly string[]).includes(v);
}

/** SQL expression ranking a priority column, for ORDER BY. */
export const priorityRankSql = (column: string): string =>
  `CASE ${column} ${PRIORITIES.map((p, i) => `WHEN '${p}' THEN ${i}`).join(' ')} ELSE 0 END`;
