// The two wire dialects the benchmark speaks: plain y-websocket (Pamoja, the y-websocket server) and
// Hocuspocus, which prefixes every message with the document name and wants an auth message first.

import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

export type Dialect = 'y-websocket' | 'hocuspocus';

export const SYNC = 0;
export const AWARENESS = 1;
export const STEP1 = 0;
export const STEP2 = 1;
export const UPDATE = 2;
const HP_AUTH = 2;
const HP_SYNC_REPLY = 4;
const HP_SYNC_STATUS = 8;
const PAMOJA_EXT = 100;

export type Incoming =
  | { kind: 'sync'; step: number; payload: Uint8Array }
  | { kind: 'saved'; count: number }
  | { kind: 'other' };

export class Wire {
  constructor(readonly dialect: Dialect, readonly docName: string) {}

  private start(): encoding.Encoder {
    const e = encoding.createEncoder();
    if (this.dialect === 'hocuspocus') encoding.writeVarString(e, this.docName);
    return e;
  }

  /** Messages to send right after the socket opens (Hocuspocus: the auth message). */
  hello(token: string): Uint8Array[] {
    if (this.dialect !== 'hocuspocus') return [];
    const e = this.start();
    encoding.writeVarUint(e, HP_AUTH);
    encoding.writeVarUint(e, 0);
    encoding.writeVarString(e, token);
    return [encoding.toUint8Array(e)];
  }

  /** A presence (awareness) update for one client id, as a stock provider sends when it connects. */
  awareness(clientId: number, clock: number, state: object): Uint8Array {
    const inner = encoding.createEncoder();
    encoding.writeVarUint(inner, 1);
    encoding.writeVarUint(inner, clientId);
    encoding.writeVarUint(inner, clock);
    encoding.writeVarString(inner, JSON.stringify(state));
    const e = this.start();
    encoding.writeVarUint(e, AWARENESS);
    encoding.writeVarUint8Array(e, encoding.toUint8Array(inner));
    return encoding.toUint8Array(e);
  }

  sync(step: number, payload: Uint8Array): Uint8Array {
    const e = this.start();
    encoding.writeVarUint(e, SYNC);
    encoding.writeVarUint(e, step);
    encoding.writeVarUint8Array(e, payload);
    return encoding.toUint8Array(e);
  }

  read(data: Uint8Array): Incoming {
    const d = decoding.createDecoder(data);
    if (this.dialect === 'hocuspocus') decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type === SYNC || (this.dialect === 'hocuspocus' && type === HP_SYNC_REPLY)) {
      const step = decoding.readVarUint(d);
      return { kind: 'sync', step, payload: decoding.readVarUint8Array(d) };
    }
    if (this.dialect === 'hocuspocus' && type === HP_SYNC_STATUS) return { kind: 'saved', count: 1 };
    if (this.dialect === 'y-websocket' && type === PAMOJA_EXT) {
      const body = JSON.parse(decoding.readVarString(d)) as { type?: string; count?: number };
      if (body.type === 'saved') return { kind: 'saved', count: typeof body.count === 'number' ? body.count : 1 };
    }
    return { kind: 'other' };
  }
}
