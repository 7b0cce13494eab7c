// Updates stock Yjs never writes, built byte by byte for the gate's attack tests and the fuzz suite.

import type * as Y from 'yjs';
import * as encoding from 'lib0/encoding';

/** The client id crafted updates write under unless told otherwise. */
export const CRAFTED_CLIENT = 0x7e57;

/** One item at clock 0 of `client`, placed right after `origin`, holding `values` as one list. */
export function valuesAfter(origin: Y.ID, values: unknown[], client = CRAFTED_CLIENT): Uint8Array {
  const e = encoding.createEncoder();
  for (const n of [1, 1, client, 0]) encoding.writeVarUint(e, n); // one client, one struct, id, clock
  encoding.writeUint8(e, 0b1000_0000 | 8); // has an origin; content: values
  encoding.writeVarUint(e, origin.client);
  encoding.writeVarUint(e, origin.clock);
  encoding.writeVarUint(e, values.length);
  for (const v of values) encoding.writeAny(e, v as Parameters<typeof encoding.writeAny>[1]);
  encoding.writeVarUint(e, 0); // delete set: no clients
  return encoding.toUint8Array(e);
}

/**
 * An item of no values right after `origin`. After an overwritten map value, Yjs 13.6 integrates it,
 * deletes it, and then fails in its own end-of-transaction work, leaving the document stuck there.
 */
export const emptyItemAfter = (origin: Y.ID): Uint8Array => valuesAfter(origin, []);

/**
 * Text at clock 0 of `client`, written as if it sat between `origin` and `rightOrigin`. Stock Yjs
 * always has the right origin to the right of the origin; given one to its left, where Yjs puts the
 * text depends on how the text around it is cut into structs.
 */
export function textBetween(origin: Y.ID, rightOrigin: Y.ID, text: string, client = CRAFTED_CLIENT): Uint8Array {
  const e = encoding.createEncoder();
  for (const n of [1, 1, client, 0]) encoding.writeVarUint(e, n); // one client, one struct, id, clock
  encoding.writeUint8(e, 0b1100_0000 | 4); // has an origin and a right origin; content: string
  for (const n of [origin.client, origin.clock, rightOrigin.client, rightOrigin.clock]) encoding.writeVarUint(e, n);
  encoding.writeVarString(e, text);
  encoding.writeVarUint(e, 0); // delete set: no clients
  return encoding.toUint8Array(e);
}
