import { describe, expect, it } from 'vitest';
import { LOCK_IDLE_MS, LockTable } from '../../apps/sync-server/src/sync/locks.js';

const req = (userId: string, connId = 1) => ({ path: 'visits/v1/triage/category', userId, name: userId, role: 'NURSE', connId });

describe('field locks', () => {
  it('lets one person hold a field and tells others who has it', () => {
    const t = new LockTable();
    expect(t.acquire(req('a'), 0)).toEqual({ ok: true });
    expect(t.acquire(req('b', 2), 1)).toEqual({ ok: false, reason: 'a is editing this field' });
    expect(t.heldByOther('visits/v1/triage/category', 'visits/v1/triage', 'b', 2)).toBe('a');
    expect(t.heldByOther('visits/v1/triage/category', 'visits/v1/triage', 'a', 2)).toBeNull();
  });

  it('releases after five idle minutes, but not while the holder keeps writing', () => {
    const t = new LockTable();
    t.acquire(req('a'), 0);
    t.touch('a', ['visits/v1/triage/category'], LOCK_IDLE_MS - 1);
    expect(t.list(LOCK_IDLE_MS + 10)).toHaveLength(1);
    expect(t.list(2 * LOCK_IDLE_MS)).toHaveLength(0);
    expect(t.acquire(req('b', 2), 2 * LOCK_IDLE_MS)).toEqual({ ok: true });
  });

  it('releases on request and when the holder disconnects', () => {
    const t = new LockTable();
    t.acquire(req('a', 7), 0);
    expect(t.release('visits/v1/triage/category', 'b')).toBe(false);
    expect(t.releaseConnection(7)).toBe(true);
    expect(t.list(1)).toHaveLength(0);
  });

  it('locks only fields that must not be edited concurrently', () => {
    const t = new LockTable();
    expect(t.acquire({ ...req('a'), path: 'visits/v1/assessment' }, 0).ok).toBe(false);
    expect(t.acquire({ ...req('a'), path: 'visits/v1/diagnoses' }, 0).ok).toBe(true);
    expect(t.acquire({ ...req('a'), path: 'visits/v1/billing/paymentStatus' }, 0).ok).toBe(true);
  });
});
