import { describe, expect, it } from 'vitest';
import { LOCK_IDLE_MS, LockTable, MAX_LOCKS_PER_PERSON } from '../../apps/sync-server/src/sync/locks.js';

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

  it('asking again for a lock one holds does not keep it alive: only writing does', () => {
    const t = new LockTable();
    t.acquire(req('a'), 0);
    t.acquire(req('a'), LOCK_IDLE_MS - 1000);
    expect(t.heldByOther('visits/v1/triage/category', 'visits/v1/triage', 'b', LOCK_IDLE_MS + 1)).toBeNull();
  });

  it('holds a lock until the last of the holder\'s connections that asked for it closes', () => {
    const t = new LockTable();
    t.acquire(req('a', 1), 0);
    t.acquire(req('a', 2), 1);
    expect(t.releaseConnection(2)).toBe(false);
    expect(t.list(2)).toHaveLength(1);
    expect(t.releaseConnection(1)).toBe(true);
    expect(t.list(3)).toHaveLength(0);
  });

  it(`one person holds at most ${MAX_LOCKS_PER_PERSON} locks on a record`, () => {
    const t = new LockTable();
    for (let v = 0; v < MAX_LOCKS_PER_PERSON; v++) expect(t.acquire({ ...req('a'), path: `visits/v${v}/diagnoses` }, 0).ok).toBe(true);
    const r = t.acquire({ ...req('a'), path: 'visits/v99/diagnoses' }, 0);
    expect(r).toEqual({ ok: false, reason: `You already hold ${MAX_LOCKS_PER_PERSON} locks on this record; finish with one of them first` });
    expect(t.acquire({ ...req('b'), path: 'visits/v99/diagnoses' }, 0).ok).toBe(true);
    expect(t.acquire({ ...req('a'), path: 'visits/v0/diagnoses' }, 0).ok).toBe(true); // one already held
  });
});
