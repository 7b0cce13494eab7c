// How sign-in waits grow and fade, on a clock the test moves.

import { describe, expect, it } from 'vitest';
import { LOGIN_LIMITS, LoginThrottle } from '../../apps/sync-server/src/auth/throttle.js';

function setup(): { t: LoginThrottle; clock: { now: number }; fail: (ip: string, user: string) => number } {
  const clock = { now: 1_000_000 };
  const t = new LoginThrottle(LOGIN_LIMITS, () => clock.now);
  const fail = (ip: string, user: string): number => {
    const wait = t.begin(ip, user);
    if (wait === 0) t.settle(ip, user, false);
    return wait;
  };
  return { t, clock, fail };
}

describe('login throttle', () => {
  it('waits 30 s after five wrong passwords, doubling with each further one, up to 15 minutes', () => {
    const { t, clock, fail } = setup();
    for (let i = 0; i < 5; i++) expect(fail('10.0.0.5', 'nurse')).toBe(0);
    expect(t.begin('10.0.0.5', 'nurse')).toBe(30_000);
    expect(t.begin('10.0.0.5', 'Nurse')).toBe(30_000); // the same username, however it is typed
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      clock.now += t.begin('10.0.0.5', 'nurse');
      expect(fail('10.0.0.5', 'nurse')).toBe(0);
      waits.push(t.begin('10.0.0.5', 'nurse'));
    }
    expect(waits).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000, 900_000]);
  });

  it('a right password clears that username at that address; other addresses and usernames were never held', () => {
    const { t, clock, fail } = setup();
    for (let i = 0; i < 5; i++) fail('10.0.0.5', 'nurse');
    expect(t.begin('10.0.0.6', 'nurse')).toBe(0);
    t.settle('10.0.0.6', 'nurse', true);
    expect(t.begin('10.0.0.5', 'lab')).toBe(0);
    t.settle('10.0.0.5', 'lab', true);
    clock.now += 30_000;
    expect(t.begin('10.0.0.5', 'nurse')).toBe(0);
    t.settle('10.0.0.5', 'nurse', true);
    for (let i = 0; i < 4; i++) expect(fail('10.0.0.5', 'nurse')).toBe(0);
  });

  it('thirty wrong passwords from one address hold it for every username, until they fade', () => {
    const { t, clock, fail } = setup();
    for (let i = 0; i < 30; i++) expect(fail('10.0.0.7', `user${i % 10}`)).toBe(0);
    expect(t.begin('10.0.0.7', 'someone.new')).toBe(30_000);
    // A right password for one username does not clear the address.
    clock.now += 30_000;
    expect(t.begin('10.0.0.7', 'pharmacy')).toBe(0);
    t.settle('10.0.0.7', 'pharmacy', true);
    expect(fail('10.0.0.7', 'someone.new')).toBe(0);
    expect(t.begin('10.0.0.7', 'pharmacy')).toBe(60_000);
    // Fifteen quiet minutes after the last failure, the count is gone.
    clock.now += 15 * 60_000 + 1;
    expect(t.begin('10.0.0.7', 'pharmacy')).toBe(0);
  });

  it('checks still under way count: a burst cannot all be let through at once', () => {
    const { t } = setup();
    const let_through = Array.from({ length: 20 }, () => t.begin('10.0.0.8', 'cashier')).filter((w) => w === 0).length;
    expect(let_through).toBe(5);
    for (let i = 0; i < 5; i++) t.settle('10.0.0.8', 'cashier', false);
    expect(t.begin('10.0.0.8', 'cashier')).toBe(30_000);
  });
});
