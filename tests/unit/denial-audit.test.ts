// Refused connections from one address are audited one by one up to a burst, then about one a
// minute, each recorded one saying how many went unrecorded before it; addresses are kept apart.
import { describe, expect, it } from 'vitest';
import { DENIALS_BURST, DENIALS_PER_MINUTE, DenialAudit } from '../../apps/sync-server/src/audit/denials.js';

describe('denial audit budget', () => {
  it('records a burst, then one a minute with the count of those in between; another address has its own', () => {
    let t = Date.now();
    const d = new DenialAudit(() => t);
    for (let i = 0; i < DENIALS_BURST; i++) expect(d.take('10.0.0.9')).toBe(0);
    for (let i = 0; i < 1000; i++) expect(d.take('10.0.0.9')).toBeNull();
    expect(d.take('10.0.0.7')).toBe(0);
    t += 60_000 / DENIALS_PER_MINUTE;
    expect(d.take('10.0.0.9')).toBe(1000);
    expect(d.take('10.0.0.9')).toBeNull();
    t += 60_000 / DENIALS_PER_MINUTE;
    expect(d.take('10.0.0.9')).toBe(1);
  });
});
