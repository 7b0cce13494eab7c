// Refused connections are audited, but not one row per refusal without end: anyone on the network can
// send upgrade requests with a bad token as fast as it carries them, and every row stays in the
// append-only trail for good. Per address, a burst of refusals is recorded one by one, then about one
// a minute; each recorded row says how many from that address went unrecorded since the one before
// (all of them are counted in the metrics' refused connections).

import { Bucket } from '../sync/conn.js';

/** Refusals from one address recorded one by one before the rate applies. */
export const DENIALS_BURST = 20;
/** Then this many a minute. */
export const DENIALS_PER_MINUTE = 1;
/** Addresses remembered; the longest quiet go first. */
const MAX_ADDRESSES = 10_000;

export class DenialAudit {
  private readonly byAddress = new Map<string, { bucket: Bucket; unrecorded: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Null when this refusal is not to be recorded; otherwise how many from its address went unrecorded before it. */
  take(address: string | null): number | null {
    const key = address ?? 'unknown';
    let e = this.byAddress.get(key);
    if (e) this.byAddress.delete(key);
    else {
      if (this.byAddress.size >= MAX_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value!);
      e = { bucket: new Bucket(DENIALS_PER_MINUTE / 60, DENIALS_BURST), unrecorded: 0 };
    }
    this.byAddress.set(key, e); // the most recent last
    if (!e.bucket.take(1, this.now())) {
      e.unrecorded++;
      return null;
    }
    const n = e.unrecorded;
    e.unrecorded = 0;
    return n;
  }
}
