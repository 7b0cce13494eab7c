// Loads what the history needs (the patient's audit rows and the record as it is now) and builds it.

import { docNameFor } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import type { AuditRow } from '../audit/audit-log.js';
import { buildHistory, type RecordHistory } from './history.js';
import { flattenRecord } from './record-fields.js';
import { AdminError } from './users.js';

export function recordHistory(ctx: ServerContext, hub: Hub, patientId: string, at: string | null, pathPrefix = ''): RecordHistory {
  const docName = docNameFor(patientId);
  const room = hub.rooms.get(docName);
  if (!room && !ctx.docs.exists(docName)) throw new AdminError(404, 'No such patient');
  // Rows and document are read in the same turn, so no change lands between the two reads.
  ctx.queue.flush();
  const rows = ctx.db
    .prepare("SELECT * FROM audit WHERE patient_id = ? AND action IN ('UPDATE', 'REGISTER') ORDER BY id")
    .all(patientId) as AuditRow[];
  if (room) return buildHistory(rows, flattenRecord(room.doc), at, pathPrefix);
  const { doc } = ctx.docs.load(docName);
  try {
    return buildHistory(rows, flattenRecord(doc), at, pathPrefix);
  } finally {
    doc.destroy();
  }
}
