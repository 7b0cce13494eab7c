// The y-websocket wire format (sync, awareness, auth, query-awareness) plus our JSON extension,
// which only clients that asked for it (`?ext=1`) ever receive.

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
  /**
   * Too much sent to it waits unread (see Conn.admit). In the 4500s, y-websocket's "try again later":
   * a tablet on a link that was too slow for a while reconnects and catches up from its state vector.
   */
  tooFarBehind: 4503,
  serverShutdown: 1001,
  /** The server dropped its copy of the record and will open it again from disk: reconnect. */
  reload: 1012,
  tooLarge: 1009,
} as const;

// Outgoing messages are written straight into a Buffer of their exact size. A small Buffer is a view
// into Node's shared pool, where lib0's encoder would allocate a 100-byte ArrayBuffer and then copy it
// into a second one: every update the server fans out pays this once, and every ArrayBuffer is memory
// the young-generation collector must sweep.

function varUintLength(n: number): number {
  let len = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarUint(buf: Buffer, at: number, n: number): number {
  while (n > 0x7f) {
    buf[at++] = 0x80 | (n & 0x7f);
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Bytes of the header of an unmasked WebSocket frame (RFC 6455, 5.2) carrying `len` bytes. */
function frameHeaderLength(len: number): number {
  return len < 126 ? 2 : len < 0x10000 ? 4 : 10;
}

/** Writes that header at the start of `buf`: one whole binary message, as a server sends it. */
function writeFrameHeader(buf: Buffer, len: number): void {
  buf[0] = 0x82; // FIN, opcode 2 (binary)
  if (len < 126) {
    buf[1] = len;
  } else if (len < 0x10000) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    buf.writeUInt32BE(len >>> 0, 6);
  }
}

/**
 * `head` (each a one-byte varUint), then `payload` as a varUint8Array or a varString. With `framed`,
 * the buffer starts with a WebSocket frame header, and the message is the rest of it.
 */
function message(head: readonly number[], payload: Uint8Array | string, framed = false): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const len = head.length + varUintLength(bytes) + bytes;
  let at = framed ? frameHeaderLength(len) : 0;
  const buf = Buffer.allocUnsafe(at + len);
  if (framed) writeFrameHeader(buf, len);
  for (const h of head) buf[at++] = h;
  at = writeVarUint(buf, at, bytes);
  if (typeof payload === 'string') buf.write(payload, at);
  else buf.set(payload, at);
  return buf;
}

/**
 * A message for several connections, framed for the WebSocket once: each of them is then sent the
 * same bytes with one socket write, where sending the message itself would have the WebSocket library
 * build a frame header for every connection and write it and the message as two pieces.
 */
export class Broadcast {
  /** `wire`: a frame header (see writeFrameHeader), then the message. */
  constructor(readonly wire: Buffer) {}

  /**
   * The y-websocket message the frame carries. Read only when a connection cannot take the frame
   * itself, or to count bytes: a view is not made for every update fanned out.
   */
  get message(): Buffer {
    // The length field says how long the header is: 126 and 127 announce 16- and 64-bit lengths.
    return this.wire.subarray(this.wire[1] === 126 ? 4 : this.wire[1] === 127 ? 10 : 2);
  }
}

const SYNC_HEADS = [[MSG_SYNC, SYNC_STEP1], [MSG_SYNC, SYNC_STEP2], [MSG_SYNC, SYNC_UPDATE]] as const;
const AWARENESS_HEAD = [MSG_AWARENESS] as const;
const DENIED_HEAD = [MSG_AUTH, 0] as const;
const EXT_HEAD = [MSG_EXT] as const;

export function syncMessage(step: number, payload: Uint8Array): Uint8Array {
  return message(SYNC_HEADS[step] ?? [MSG_SYNC, step], payload);
}

export function awarenessMessage(update: Uint8Array): Uint8Array {
  return message(AWARENESS_HEAD, update);
}

/** An update for everyone on a record. */
export function updateBroadcast(update: Uint8Array): Broadcast {
  return new Broadcast(message(SYNC_HEADS[SYNC_UPDATE], update, true));
}

export function awarenessBroadcast(update: Uint8Array): Broadcast {
  return new Broadcast(message(AWARENESS_HEAD, update, true));
}

/** The protocol's own refusal: stock clients log "Permission denied ... <reason>". */
export function permissionDenied(reason: string): Uint8Array {
  return message(DENIED_HEAD, reason);
}

export function extMessage(body: object): Uint8Array {
  return message(EXT_HEAD, JSON.stringify(body));
}

export function extBroadcast(body: object): Broadcast {
  return new Broadcast(message(EXT_HEAD, JSON.stringify(body), true));
}
