// The HTTP API's input checks: every problem is reported with its field, values come out cleaned,
// and nothing that was not asked for slips through a strict object.

import { describe, expect, it } from 'vitest';
import * as v from '../../apps/sync-server/src/http/validate.js';

const issues = <T>(s: v.Schema<T>, value: unknown): string => {
  const r = s.safeParse(value);
  if (r.success) throw new Error(`expected a refusal, got ${JSON.stringify(r.data)}`);
  return v.describeIssues(r.issues);
};

describe('validate', () => {
  it('reports every bad field of an object at once, each with its path', () => {
    const User = v.strictObject({
      username: v.string().trim().min(2).regex(/^[a-z]+$/, 'may use lower-case letters'),
      role: v.oneOf(['NURSE', 'LAB'] as const),
      address: v.object({ town: v.string().min(1, 'is required') }),
    });
    expect(issues(User, { username: ' X ', role: 'WIZARD', address: { town: '' }, extra: 1 })).toBe(
      'username: must be at least 2 characters; username: may use lower-case letters; role: must be one of NURSE, LAB; '
      + 'address.town: is required; extra: is not a field this accepts',
    );
    expect(issues(User, null)).toBe('body: must be a JSON object');
    expect(issues(User, [])).toBe('body: must be a JSON object');
    expect(issues(User, {})).toBe('username: must be text and is required; role: must be one of NURSE, LAB; address: must be a JSON object');
  });

  it('gives back the cleaned value: trimmed, defaults filled, unknown fields of a plain object dropped, absent ones left out', () => {
    const Body = v.object({ name: v.string().trim().max(5), note: v.string().optional(), signOut: v.boolean().default(true) });
    expect(Body.safeParse({ name: '  Ann ', other: 'x' })).toEqual({ success: true, data: { name: 'Ann', signOut: true } });
    expect(Body.safeParse({ name: 'Ann', note: 'n', signOut: false })).toEqual({ success: true, data: { name: 'Ann', note: 'n', signOut: false } });
    expect(issues(Body, { name: 'Annabel' })).toBe('name: must be at most 5 characters');
    // A key that only looks like a field (inherited) is not one.
    expect(issues(Body, Object.create({ name: 'Ann' }))).toBe('name: must be text and is required');
  });

  it('reads numbers from text, as query strings and path parameters carry them', () => {
    const Limit = v.number().int().min(1).max(1000).default(100);
    expect(Limit.safeParse('25')).toEqual({ success: true, data: 25 });
    expect(Limit.safeParse(undefined)).toEqual({ success: true, data: 100 });
    expect(issues(Limit, '0')).toBe('body: must be at least 1');
    expect(issues(Limit, '2.5')).toBe('body: must be a whole number');
    expect(issues(Limit, '5000')).toBe('body: must be at most 1000');
    for (const bad of ['', ' ', 'abc', '1e999', true, null, {}]) expect(issues(Limit, bad)).toBe('body: must be a number');
  });

  it('refines, transforms, and tries an alternative only when the first fails', () => {
    const Day = v.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').refine((d) => !Number.isNaN(Date.parse(d)), 'must be a real date');
    expect(Day.safeParse('2026-02-01')).toEqual({ success: true, data: '2026-02-01' });
    expect(issues(Day, '2026-02-41')).toBe('body: must be a real date');
    expect(issues(Day, 'soon')).toBe('body: must be YYYY-MM-DD');
    const Upper = v.string().transform((s) => s.toUpperCase());
    expect(Upper.safeParse('abc')).toEqual({ success: true, data: 'ABC' });
    const Phone = v.string().trim().regex(/^\+?\d+$/, 'must be digits').optional().or(v.literal(''));
    expect(Phone.safeParse('')).toEqual({ success: true, data: '' });
    expect(Phone.safeParse(undefined)).toEqual({ success: true, data: undefined });
    expect(Phone.safeParse(' +254 ')).toEqual({ success: true, data: '+254' });
    expect(issues(Phone, 'call me')).toBe('body: must be digits');
    expect(issues(v.boolean(), 'yes')).toBe('body: must be true or false');
  });

  it('extends an object with more fields and keeps it strict', () => {
    const Filter = v.strictObject({ user: v.string().optional() });
    const Page = Filter.extend({ limit: v.number().default(10) });
    expect(Page.safeParse({ user: 'ann', limit: '3' })).toEqual({ success: true, data: { user: 'ann', limit: 3 } });
    expect(issues(Page, { colour: 'red' })).toBe('colour: is not a field this accepts');
  });
});
