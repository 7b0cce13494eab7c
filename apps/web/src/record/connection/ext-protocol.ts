// Pamoja's extension messages (type 100, a JSON object in a lib0 varString), which the server sends
// only to clients that connect with `ext=1`: saved acks, refusal details, field locks.
import * as encoding from 'lib0/encoding';
import type { Role } from '@pamoja/permissions';

export const MSG_EXT = 100;

export interface Refusal {
  path: string;
  reason: string;
  tried: unknown;
}

export interface FieldLock {
  path: string;
  userId: string;
  name: string;
  role: string;
  since: number;
}

export type ExtMessage =
  | { type: 'saved'; at: string; count: number }
  | { type: 'refused'; refusals: Refusal[] }
  | { type: 'locks'; locks: FieldLock[] }
  | { type: 'lock-result'; path: string; ok: boolean; reason?: string }
  | { type: 'role-changed'; role: Role }
  | { type: 'error'; message: string };

export function encodeExt(body: { type: 'lock' | 'unlock'; path: string }): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_EXT);
  encoding.writeVarString(e, JSON.stringify(body));
  return encoding.toUint8Array(e);
}

/** Parses an extension message; unknown or malformed ones are ignored rather than break the record. */
export function parseExt(json: string): ExtMessage | null {
  try {
    const body = JSON.parse(json) as { type?: unknown };
    return body && typeof body.type === 'string' ? (body as ExtMessage) : null;
  } catch {
    return null;
  }
}
