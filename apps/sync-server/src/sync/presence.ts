// Awareness with trusted identity: the server rewrites every presence state with the identity of the
// connection that sent it, and refuses states for Yjs client ids that belong to another connection.

import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { ROLE_LABELS } from '@pamoja/permissions';
import type { Actor } from '../gate/actor.js';

const ACTIVITIES = ['viewing', 'editing', 'typing', 'idle'];
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

export function colorFor(userId: string): string {
  let h = 0;
  for (const ch of userId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length]!;
}

export interface PresenceEntry {
  clientId: number;
  clock: number;
  state: Record<string, unknown> | null;
}

export function decodeAwarenessUpdate(update: Uint8Array): PresenceEntry[] {
  const d = decoding.createDecoder(update);
  const n = decoding.readVarUint(d);
  if (n > 1000) throw new Error('too many presence states in one message');
  const out: PresenceEntry[] = [];
  for (let i = 0; i < n; i++) {
    const clientId = decoding.readVarUint(d);
    const clock = decoding.readVarUint(d);
    const raw = decoding.readVarString(d);
    if (raw.length > 8192) throw new Error('presence state too large');
    const state = JSON.parse(raw) as unknown;
    out.push({ clientId, clock, state: state && typeof state === 'object' && !Array.isArray(state) ? (state as Record<string, unknown>) : null });
  }
  return out;
}

export function encodeAwarenessUpdate(entries: PresenceEntry[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, entries.length);
  for (const en of entries) {
    encoding.writeVarUint(e, en.clientId);
    encoding.writeVarUint(e, en.clock);
    encoding.writeVarString(e, JSON.stringify(en.state));
  }
  return encoding.toUint8Array(e);
}

const short = (v: unknown, max = 200): string | undefined => (typeof v === 'string' ? v.slice(0, max) : undefined);

/**
 * Keeps what a client may say about itself (where it is, what it is doing, its caret) and replaces
 * who it is with the connection's identity.
 */
export function stampPresence(state: Record<string, unknown>, actor: Actor): Record<string, unknown> {
  const activity = short(state.activity, 20);
  const out: Record<string, unknown> = {
    user: {
      id: actor.userId,
      username: actor.username,
      name: actor.name,
      role: actor.role,
      roleLabel: ROLE_LABELS[actor.role],
      color: colorFor(actor.userId),
    },
  };
  const section = short(state.section);
  const field = short(state.field);
  if (section) out.section = section;
  if (field) out.field = field;
  if (activity && ACTIVITIES.includes(activity)) out.activity = activity;
  if (typeof state.visitId === 'string') out.visitId = short(state.visitId, 64);
  // Carets of the collaborative editor (relative positions, opaque JSON) stay as sent, size-capped.
  for (const k of ['cursor', 'selection']) {
    if (state[k] !== undefined) {
      const s = JSON.stringify(state[k]);
      if (s.length <= 2000) out[k] = state[k];
    }
  }
  return out;
}
