// Validation at the edge of the HTTP API: the schemas of ./validate.ts, and one clear 400 message for
// bad input (BadInput, answered by the app's error handler).

import type { Context } from 'hono';
import type { AppEnv } from './auth.js';
import { describeIssues, string, type Schema } from './validate.js';

export class BadInput extends Error {}

/** The JSON body, checked by `schema`. With `emptyAs`, a request without a body reads as that value. */
export async function body<T>(c: Context<AppEnv>, schema: Schema<T>, opts: { emptyAs?: unknown } = {}): Promise<T> {
  const text = await c.req.text();
  let raw: unknown;
  if (text === '' && opts.emptyAs !== undefined) raw = opts.emptyAs;
  else {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new BadInput('The body must be JSON');
    }
  }
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
