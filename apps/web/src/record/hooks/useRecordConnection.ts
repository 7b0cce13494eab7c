// Opens a record for the signed-in user while a page shows it, and closes it when they leave.
import { useEffect, useState } from 'react';
import type { Session } from '../../session/session.js';
import { RecordConnection } from '../connection/record-connection.js';

export function useRecordConnection(session: Session, patientId: string): RecordConnection | null {
  const [conn, setConn] = useState<RecordConnection | null>(null);
  useEffect(() => {
    const c = new RecordConnection(session, patientId);
    setConn(c);
    return () => {
      setConn(null);
      c.destroy();
    };
  }, [session.token, session.user.id, patientId]);
  return conn;
}
