// The open record and what the signed-in person may do with it, for every component of the page.
import { createContext, useContext } from 'react';
import type { Role } from '@pamoja/permissions';
import type { RecordConnection } from './connection/record-connection.js';

export interface RecordCtx {
  conn: RecordConnection;
  role: Role;
  patientId: string;
}

export const RecordContext = createContext<RecordCtx | null>(null);

export function useRecord(): RecordCtx {
  const ctx = useContext(RecordContext);
  if (!ctx) throw new Error('useRecord outside a record page');
  return ctx;
}
