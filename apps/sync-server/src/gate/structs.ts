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
import * as encoding from 'lib0/encoding';

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

/** Where an item says it lives: a top-level type, inside the type another item holds, or beside another item. */
export const enum ParentBy {
  Root,
  Item,
  Origin,
  RightOrigin,
}

/**
 * Told about each item of an update: its id and length, whether it holds a shared type, and the id
 * its place is read from (`by`: the item holding its parent, or its left or right neighbour; unused
 * for a top-level parent).
 */
export type ItemVisitor = (client: number, clock: number, length: number, holdsType: boolean, by: ParentBy, refClient: number, refClock: number) => void;

/** What a scan of several updates found in all of them. */
export interface ScanTotals {
  /** Some item holds a shared type. */
  types: boolean;
  /** Items (structs other than collected or skipped ranges). */
  items: number;
  /** Clock units the delete sets cover. */
  deleted: number;
  /** The delete sets' ranges, flat: client, clock, length, client, ... */
  deletes: number[];
}

/**
 * Records in `ends` the clock each client's structs in `update` reach, keeping the larger of what is
 * there. Throws MalformedUpdate (or lib0's decoding errors) when the update cannot be read or holds a
 * struct Yjs cannot hold. With `totals`, adds what it found there (shared types, the delete set).
 * Returns where the delete set starts.
 */
export function scanUpdate(
  update: Uint8Array, ends: Map<number, number>, visit: ItemVisitor | null = null, totals: ScanTotals | null = null,
): number {
  let types = false;
  let items = 0;
  const d = decoding.createDecoder(update);
  const clients = decoding.readVarUint(d);
  // Yjs keeps only the last block it reads for a client: blocks before it would be read here and
  // never applied (decoys for the checks that use this scan). Stock Yjs writes each client once.
  const seen = clients > 1 ? new Set<number>() : null;
  for (let c = 0; c < clients; c++) {
    const structs = decoding.readVarUint(d);
    const client = decoding.readVarUint(d);
    if (seen) {
      if (seen.has(client)) throw new MalformedUpdate(`the update lists client ${client} twice`);
      seen.add(client);
    }
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
      let by = ParentBy.Root;
      let refClient = 0;
      let refClock = 0;
      if (info & HAS_ORIGIN) {
        by = ParentBy.Origin;
        refClient = decoding.readVarUint(d);
        refClock = decoding.readVarUint(d);
      }
      if (info & HAS_RIGHT_ORIGIN) {
        const c = decoding.readVarUint(d);
        const k = decoding.readVarUint(d);
        if (by === ParentBy.Root) (by = ParentBy.RightOrigin, refClient = c, refClock = k);
      }
      if ((info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN)) === 0) {
        // The parent: a top-level type by name, or the item that holds it; then the map key, if any.
        if (decoding.readVarUint(d) === 1) skipString(d);
        else {
          by = ParentBy.Item;
          refClient = decoding.readVarUint(d);
          refClock = decoding.readVarUint(d);
        }
        if (info & HAS_PARENT_SUB) skipString(d);
      }
      const length = itemLength(d, kind);
      if (kind === TYPE) types = true;
      items++;
      visit?.(client, clock, length, kind === TYPE, by, refClient, refClock);
      clock += length;
    }
    if (structs > 0) ends.set(client, Math.max(clock, ends.get(client) ?? 0));
  }
  // The delete set: per client, ranges of clock and length.
  const dsStart = d.pos;
  const deleting = decoding.readVarUint(d);
  let deleted = 0;
  for (let c = 0; c < deleting; c++) {
    const client = decoding.readVarUint(d);
    const ranges = decoding.readVarUint(d);
    for (let r = 0; r < ranges; r++) {
      const clock = decoding.readVarUint(d);
      const length = decoding.readVarUint(d);
      deleted += length;
      totals?.deletes.push(client, clock, length);
    }
  }
  if (totals) {
    totals.types ||= types;
    totals.items += items;
    totals.deleted += deleted;
  }
  return dsStart;
}

/**
 * The update with only the deletions of items by the clients `keep` accepts (a delete set names the
 * items' authors, never who deleted them). Appends the kept ranges, flat, to `kept`.
 */
export function keepDeletions(update: Uint8Array, keep: (client: number) => boolean, kept: number[]): Uint8Array {
  const start = scanUpdate(update, new Map());
  const d = decoding.createDecoder(update);
  d.pos = start;
  const clients: { client: number; ranges: number[] }[] = [];
  const deleting = decoding.readVarUint(d);
  for (let c = 0; c < deleting; c++) {
    const client = decoding.readVarUint(d);
    const n = decoding.readVarUint(d);
    const ranges: number[] = [];
    for (let r = 0; r < n; r++) ranges.push(decoding.readVarUint(d), decoding.readVarUint(d));
    if (!keep(client)) continue;
    clients.push({ client, ranges });
    for (let r = 0; r < ranges.length; r += 2) kept.push(client, ranges[r]!, ranges[r + 1]!);
  }
  const e = encoding.createEncoder();
  encoding.writeUint8Array(e, update.subarray(0, start));
  encoding.writeVarUint(e, clients.length);
  for (const { client, ranges } of clients) {
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, ranges.length / 2);
    for (const x of ranges) encoding.writeVarUint(e, x);
  }
  return encoding.toUint8Array(e);
}
