// The server writes its outgoing messages itself, into buffers of the exact size. Every client reads
// them with lib0's decoder (stock y-websocket, our web app), so they must be byte for byte what
// lib0's encoder writes, at every length where a varUint grows a byte.

import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as ws from 'ws';
import {
  MSG_AUTH, MSG_AWARENESS, MSG_EXT, MSG_SYNC, SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE,
  awarenessBroadcast, awarenessMessage, extBroadcast, extMessage, permissionDenied, syncMessage, updateBroadcast,
  type Broadcast,
} from '../../apps/sync-server/src/sync/protocol.js';

/** ws's frame parser (exported by ws, though not in its type declarations), as a client uses it. */
interface FrameReader {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (e: Error) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => FrameReader };

/** What a WebSocket client reads from `wire`: each message, or the error that closed the connection. */
function readAsClient(wire: Buffer): { messages: Buffer[]; error: Error | null } {
  const out: { messages: Buffer[]; error: Error | null } = { messages: [], error: null };
  const r = new Receiver({ isServer: false, maxPayload: 0 });
  r.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) throw new Error('expected a binary message');
    out.messages.push(Buffer.from(data));
  });
  r.on('error', (e: Error) => (out.error = e));
  // In pieces of up to 1,000 bytes, as a network delivers a frame.
  for (let at = 0; at < wire.length; at += 1000) r.write(wire.subarray(at, at + 1000));
  return out;
}

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

  // 125/126 and 65535/65536 are where a WebSocket frame's length field grows from 7 bits to 16, and
  // from 16 to 64.
  it('a message framed once for many connections is read by a WebSocket client as that message', () => {
    const sizes = [0, 1, 121, 122, 123, 124, 125, 126, 300, 65528, 65529, 65530, 65531, 70000, 2 ** 20];
    for (const n of sizes) {
      const payload = bytes(n);
      const cases: [Broadcast, Uint8Array][] = [
        [updateBroadcast(payload), syncMessage(SYNC_UPDATE, payload)],
        [awarenessBroadcast(payload), awarenessMessage(payload)],
      ];
      for (const [b, expected] of cases) {
        expect(Buffer.from(b.message).equals(Buffer.from(expected))).toBe(true);
        // Two in a row on one connection: the first frame's length must end exactly where the second starts.
        const got = readAsClient(Buffer.concat([b.wire, b.wire]));
        expect(got.error).toBeNull();
        expect(got.messages.length).toBe(2);
        for (const m of got.messages) expect(m.equals(Buffer.from(expected))).toBe(true);
      }
    }
    const body = { type: 'locks', locks: [{ path: 'visits/v1/triage/category', name: 'Achieng’ 🩺' }] };
    const got = readAsClient(extBroadcast(body).wire);
    expect(got.messages.map((m) => Buffer.from(m).equals(Buffer.from(extMessage(body))))).toEqual([true]);
  });
});

