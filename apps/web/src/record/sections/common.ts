// What every section component needs: its Y type, its unit path, and whether I may write it.
import type * as Y from 'yjs';
import { sectionOf, type VisitSection } from '@pamoja/schema';
import { canWrite } from '@pamoja/permissions';
import { useRecord } from '../RecordContext.js';
import { humanize } from '../format.js';

export interface SectionProps {
  visitId: string;
}

export function useSection<T extends Y.AbstractType<any> = Y.Map<unknown>>(visitId: string, section: VisitSection) {
  const { conn, role } = useRecord();
  const unitPath = `visits/${visitId}/${section}`;
  return {
    conn,
    role,
    type: sectionOf<T>(conn.doc, visitId, section),
    unitPath,
    section,
    visitId,
    editable: canWrite(role, unitPath),
  };
}

export const optionsOf = (codes: readonly string[]): { value: string; label: string }[] =>
  codes.map((c) => ({ value: c, label: humanize(c) }));

export const nowIso = (): string => new Date().toISOString();
