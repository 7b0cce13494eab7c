// The server writes its outgoing messages itself, into buffers of the exact size. Every client reads
// them with lib0's decoder (stock y-websocket, our web app), so they must be byte for byte what
// lib0's encoder writes, at every length where a varUint grows a byte.

import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import {
  MSG_AUTH, MSG_AWARENESS, MSG_EXT, MSG_SYNC, SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE,
  awarenessMessage, extMessage, permissionDenied, syncMessage,
} from '../../apps/sync-server/src/sync/protocol.js';

function lib0(head: number[], payload: Uint8Array | string): Uint8Array {
  const e = encoding.createEncoder();
  for (const h of head) encoding.writeVarUint(e, h);
  if (typeof payload === 'string') encoding.writeVarString(e, payload);
  else encoding.writeVarUint8Array(e, payload);
  return encoding.toUint8Array(e);
}

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

describe('outgoing protocol messages', () => {
  // 127/128 and 16383/16384 are where the length prefix grows from one byte to two, and two to three.
  const lengths = [0, 1, 40, 127, 128, 129, 300, 16383, 16384, 70000];

  it('sync and awareness messages match lib0 at every length boundary', () => {
    for (const n of lengths) {
      const payload = bytes(n);
      for (const step of [SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE]) {
        expect(Buffer.from(syncMessage(step, payload)).equals(Buffer.from(lib0([MSG_SYNC, step], payload)))).toBe(true);
      }
      expect(Buffer.from(awarenessMessage(payload)).equals(Buffer.from(lib0([MSG_AWARENESS], payload)))).toBe(true);
    }
  });

  it('text messages match lib0 and decode back, including characters outside ASCII', () => {
    const reasons = ['', 'Only a nurse may record vital signs', 'Wanjiku’s change to “triage” — refused 🩺', 'x'.repeat(200)];
    for (const reason of reasons) {
      const msg = permissionDenied(reason);
      expect(Buffer.from(msg).equals(Buffer.from(lib0([MSG_AUTH, 0], reason)))).toBe(true);
      const d = decoding.createDecoder(msg);
      expect([decoding.readVarUint(d), decoding.readVarUint(d), decoding.readVarString(d)]).toEqual([MSG_AUTH, 0, reason]);
    }
    const body = { type: 'saved', at: '2026-11-21T10:00:00.000Z', count: 3, note: 'Ndugu — “sawa”' };
    const msg = extMessage(body);
    expect(Buffer.from(msg).equals(Buffer.from(lib0([MSG_EXT], JSON.stringify(body))))).toBe(true);
    const d = decoding.createDecoder(msg);
    expect(decoding.readVarUint(d)).toBe(MSG_EXT);
    expect(JSON.parse(decoding.readVarString(d))).toEqual(body);
  });

  it('each message is its own bytes, not a window that a later message overwrites', () => {
    const first = syncMessage(SYNC_UPDATE, bytes(50));
    const copy = Buffer.from(first);
    for (let i = 0; i < 500; i++) syncMessage(SYNC_UPDATE, bytes(60));
    expect(Buffer.from(first).equals(copy)).toBe(true);
  });
});
