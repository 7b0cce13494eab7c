// Reads a whole Yjs update (encoding v1) before anything of it is applied: which clients it writes
// structs for and up to which clock, whether every struct is one Yjs can hold, and whether its delete
// set can be read. Yjs integrates the structs before it reads the delete set, so an update that
// breaks off there would otherwise leave its structs in the document.
//
// A struct of length zero is the case that matters. Yjs integrates it (its state does not move), and
// when such an item is deleted in the same transaction (its left neighbour was already deleted, or
// the gate refuses it), Yjs's end-of-transaction cleanup looks up clock `clock + 0 - 1` and throws.
// That exception leaves the document inside a transaction that never ends: from then on no
// transaction on it emits updates or runs observers. Stock Yjs never writes a zero-length struct, so
// an update carrying one is refused as malformed before it touches the document.

import * as decoding from 'lib0/decoding';

export class MalformedUpdate extends Error {}

// The low five bits of a struct's info byte say what it is; the top three, which fields follow.
const KIND = 0b11111;
const HAS_ORIGIN = 0b1000_0000;
const HAS_RIGHT_ORIGIN = 0b0100_0000;
const HAS_PARENT_SUB = 0b0010_0000;

const GC = 0;
const DELETED = 1;
const JSON_VALUES = 2;
const BINARY = 3;
const STRING = 4;
const EMBED = 5;
const FORMAT = 6;
const TYPE = 7;
const ANY = 8;
const SUBDOC = 9;
const SKIP = 10;

// Shared types whose encoding carries a node name after the type number.
const XML_ELEMENT = 3;
const XML_HOOK = 5;
const LAST_TYPE = 6;

function skipBytes(d: decoding.Decoder, n: number): void {
  if (d.pos + n > d.arr.length) throw new MalformedUpdate('Unexpected end of array');
  d.pos += n;
}

/** Skips a length-prefixed string and returns its length in bytes. */
function skipString(d: decoding.Decoder): number {
  const n = decoding.readVarUint(d);
  skipBytes(d, n);
  return n;
}

/** Skips two numbers: an item id (client, clock), or a deleted range (clock, length). */
function skipPair(d: decoding.Decoder): void {
  decoding.readVarUint(d);
  decoding.readVarUint(d);
}

function positive(n: number, what: string): number {
  if (n === 0) throw new MalformedUpdate(`the update holds an empty ${what}`);
  return n;
}

/** The clock length of one item, reading its content past the decoder. */
function itemLength(d: decoding.Decoder, kind: number): number {
  switch (kind) {
    case DELETED:
      return positive(decoding.readVarUint(d), 'deleted range');
    case JSON_VALUES: {
      const n = positive(decoding.readVarUint(d), 'list of values');
      for (let i = 0; i < n; i++) skipString(d);
      return n;
    }
    case BINARY:
      skipString(d);
      return 1;
    case STRING:
      // Yjs counts text in UTF-16 code units, after decoding (bad UTF-8 becomes U+FFFD).
      return positive(decoding.readVarString(d).length, 'text');
    case EMBED:
      skipString(d);
      return 1;
    case FORMAT:
      skipString(d);
      skipString(d);
      return 1;
    case TYPE: {
      const type = decoding.readVarUint(d);
      if (type > LAST_TYPE) throw new MalformedUpdate(`unknown shared type ${type}`);
      if (type === XML_ELEMENT || type === XML_HOOK) skipString(d);
      return 1;
    }
    case ANY: {
      const n = positive(decoding.readVarUint(d), 'list of values');
      for (let i = 0; i < n; i++) decoding.readAny(d);
      return n;
    }
    case SUBDOC:
      skipString(d);
      decoding.readAny(d);
      return 1;
    default:
      throw new MalformedUpdate(`unknown content type ${kind}`);
  }
}

/**
 * Records in `ends` the clock each client's structs in `update` reach, keeping the larger of what is
 * there. Throws MalformedUpdate (or lib0's decoding errors) when the update cannot be read or holds a
 * struct Yjs cannot hold.
 */
export function scanUpdate(update: Uint8Array, ends: Map<number, number>): void {
  const d = decoding.createDecoder(update);
  const clients = decoding.readVarUint(d);
  for (let c = 0; c < clients; c++) {
    const structs = decoding.readVarUint(d);
    const client = decoding.readVarUint(d);
    let clock = decoding.readVarUint(d);
    for (let s = 0; s < structs; s++) {
      if (d.pos >= d.arr.length) throw new MalformedUpdate('Unexpected end of array');
      const info = decoding.readUint8(d);
      const kind = info & KIND;
      if (kind === GC) {
        clock += positive(decoding.readVarUint(d), 'collected range');
        continue;
      }
      if (kind === SKIP) {
        clock += positive(decoding.readVarUint(d), 'skipped range');
        continue;
      }
      if (info & HAS_ORIGIN) skipPair(d);
      if (info & HAS_RIGHT_ORIGIN) skipPair(d);
      if ((info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN)) === 0) {
        // The parent: a top-level type by name, or the item that holds it; then the map key, if any.
        if (decoding.readVarUint(d) === 1) skipString(d);
        else skipPair(d);
        if (info & HAS_PARENT_SUB) skipString(d);
      }
      clock += itemLength(d, kind);
    }
    if (structs > 0) ends.set(client, Math.max(clock, ends.get(client) ?? 0));
  }
  // The delete set: per client, ranges of clock and length.
  const deleting = decoding.readVarUint(d);
  for (let c = 0; c < deleting; c++) {
    decoding.readVarUint(d);
    const ranges = decoding.readVarUint(d);
    for (let r = 0; r < ranges; r++) skipPair(d);
  }
}
