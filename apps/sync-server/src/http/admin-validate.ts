// Validation at the edge of the admin API: the schemas of ./validate.ts, and one clear 400 message for bad input.

import type { Context } from 'hono';
import type { AppEnv } from './auth.js';
import { describeIssues, string, type Schema } from './validate.js';

export class BadInput extends Error {}

export async function body<T>(c: Context<AppEnv>, schema: Schema<T>): Promise<T> {
  const raw: unknown = await c.req.json().catch(() => undefined);
  if (raw === undefined) throw new BadInput('The body must be JSON');
  const r = schema.safeParse(raw);
  if (!r.success) throw new BadInput(describeIssues(r.issues));
  return r.data;
}

export function query<T>(c: Context<AppEnv>, schema: Schema<T>): T {
  const r = schema.safeParse(c.req.query());
  if (!r.success) throw new BadInput(describeIssues(r.issues));
  return r.data;
}

export function param<T>(c: Context<AppEnv>, name: string, schema: Schema<T>): T {
  const r = schema.safeParse(c.req.param(name));
  if (!r.success) throw new BadInput(`${name}: ${r.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}

/** An ISO 8601 time, normalised to the audit's own form (UTC, milliseconds) so string order is time order. */
export const isoTime = string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time such as 2026-01-31T14:00:00Z')
  .transform((s) => new Date(s).toISOString());
