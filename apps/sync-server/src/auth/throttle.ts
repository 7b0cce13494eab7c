// Slows password guessing. A few wrong passwords for one username from one address, or many from one
// address for any usernames, and sign-ins from there must wait before their password is even
// checked: 30 s, doubling with each further failure, up to 15 minutes. Kept per address, never per
// username alone, so nobody can lock a colleague out from another device. A right password clears
// its username's count from that address; the address's own count only fades with time.

export interface ThrottleLimits {
  /** Wrong passwords allowed for one username from one address before sign-ins wait. */
  perUser: number;
  /** Wrong passwords allowed from one address, whatever the usernames. */
  perAddress: number;
  /** First wait; each further failure doubles it. */
  baseMs: number;
  maxMs: number;
  /** A count is forgotten this long after its last failure. */
  forgetMs: number;
}

export const LOGIN_LIMITS: ThrottleLimits = { perUser: 5, perAddress: 30, baseMs: 30_000, maxMs: 15 * 60_000, forgetMs: 15 * 60_000 };

/** How long an attempt waits while others from the same address are being checked. */
const CHECKING_WAIT_MS = 1000;

/** Counts kept at most; the longest unused go first. */
const MAX_ENTRIES = 10_000;

interface Entry {
  failures: number;
  /** Checks under way (their outcome not known yet): counted, so a burst cannot slip through together. */
  checking: number;
  last: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limits: ThrottleLimits = LOGIN_LIMITS, private readonly now: () => number = Date.now) {}

  /**
   * Before a password is checked: 0 when it may be, and the check is counted as under way until
   * `settle`; otherwise how many milliseconds this address must wait.
   */
  begin(address: string | null, username: string): number {
    const keys = this.keys(address, username);
    const wait = Math.max(this.waitFor(keys[0], this.limits.perUser), this.waitFor(keys[1], this.limits.perAddress));
    if (wait > 0) return wait;
    for (const k of keys) this.entry(k).checking++;
    return 0;
  }

  /** After the check `begin` allowed. */
  settle(address: string | null, username: string, ok: boolean): void {
    const [pair, addr] = this.keys(address, username);
    const t = this.now();
    for (const k of [pair, addr]) {
      const e = this.entry(k);
      e.checking = Math.max(0, e.checking - 1);
      if (!ok) {
        e.failures++;
        e.last = t;
      }
    }
    if (ok) this.entries.delete(pair);
  }

  private keys(address: string | null, username: string): [string, string] {
    const a = address ?? 'unknown';
    return [`${a}\n${username.toLowerCase()}`, a];
  }

  private waitFor(key: string, free: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const t = this.now();
    if (e.checking === 0 && t - e.last > this.limits.forgetMs) {
      this.entries.delete(key);
      return 0;
    }
    if (e.failures + e.checking < free) return 0;
    // Checks under way would use up what is left: this one waits for their outcome.
    if (e.failures < free) return CHECKING_WAIT_MS;
    const wait = Math.min(this.limits.maxMs, this.limits.baseMs * 2 ** Math.min(e.failures - free, 20));
    const left = e.last + wait - t;
    if (left > 0) return left;
    // The wait is over: one more try at a time.
    return e.checking > 0 ? CHECKING_WAIT_MS : 0;
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (e) this.entries.delete(key); // re-inserted: the map's order is least recently used first
    else {
      e = { failures: 0, checking: 0, last: this.now() };
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, e);
    return e;
  }
}
