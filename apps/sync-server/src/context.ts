// Everything a stage of the server needs, built once at start-up and passed down.

import { EventEmitter } from 'node:events';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { DB } from './storage/db.js';
import type { CommitQueue } from './storage/commit-queue.js';
import type { DocStore } from './storage/doc-store.js';
import type { AuditLog } from './audit/audit-log.js';
import type { Users } from './auth/users.js';
import type { Sessions } from './auth/sessions.js';
import type { PatientProjection } from './projections/patients.js';
import type { Actor } from './gate/actor.js';
import type { FieldChange } from './gate/gate.js';

/** Emitted after an accepted change is committed: projections and notifications listen. */
export interface RecordChanged {
  docName: string;
  patientId: string | null;
  actor: Actor;
  fields: FieldChange[];
}

/** How long one sync message took: the synchronous gate, and receipt until on disk (null if nothing was stored). */
export interface SyncTiming {
  gateMs: number;
  commitMs: number | null;
}

export interface ServerEvents {
  'record-changed': [RecordChanged];
  'sync-timing': [SyncTiming];
}

export interface ServerContext {
  config: Config;
  log: Logger;
  db: DB;
  queue: CommitQueue;
  docs: DocStore;
  audit: AuditLog;
  users: Users;
  sessions: Sessions;
  patients: PatientProjection;
  events: EventEmitter<ServerEvents>;
  metrics: Counters;
}

export interface Counters {
  updatesAccepted: number;
  updatesRefused: number;
  messagesIn: number;
  bytesIn: number;
  connectionsRefused: number;
  /** Connections closed (4503) for having too much waiting unsent, on their own or with their account's others. */
  connectionsBehind: number;
}
