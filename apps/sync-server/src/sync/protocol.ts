// The y-websocket wire format (sync, awareness, auth, query-awareness) plus our JSON extension,
// which only clients that asked for it (`?ext=1`) ever receive.

import * as encoding from 'lib0/encoding';

export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;
export const MSG_AUTH = 2;
export const MSG_QUERY_AWARENESS = 3;
/** Pamoja's own messages: a JSON object. Never sent to stock clients. */
export const MSG_EXT = 100;

export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

/** Close codes in the 4400-4499 range tell y-websocket not to reconnect (a decision, not a fault). */
export const CLOSE = {
  malformed: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  rateLimited: 4429,
  serverShutdown: 1001,
  tooLarge: 1009,
} as const;

export function syncMessage(step: number, payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_SYNC);
  encoding.writeVarUint(e, step);
  encoding.writeVarUint8Array(e, payload);
  return encoding.toUint8Array(e);
}

export function awarenessMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_AWARENESS);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/** The protocol's own refusal: stock clients log "Permission denied ... <reason>". */
export function permissionDenied(reason: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_AUTH);
  encoding.writeVarUint(e, 0);
  encoding.writeVarString(e, reason);
  return encoding.toUint8Array(e);
}

export function extMessage(body: object): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_EXT);
  encoding.writeVarString(e, JSON.stringify(body));
  return encoding.toUint8Array(e);
}
