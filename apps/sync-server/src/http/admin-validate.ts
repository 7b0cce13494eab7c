// Validation at the edge of the admin API: zod schemas, and one clear 400 message for bad input.

import type { Context } from 'hono';
import * as z from 'zod';
import type { AppEnv } from './auth.js';

export class BadInput extends Error {}

export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

export async function body<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  const raw: unknown = await c.req.json().catch(() => undefined);
  if (raw === undefined) throw new BadInput('The body must be JSON');
  const r = schema.safeParse(raw);
  if (!r.success) throw new BadInput(describeIssues(r.error));
  return r.data;
}

export function query<T extends z.ZodType>(c: Context<AppEnv>, schema: T): z.infer<T> {
  const r = schema.safeParse(c.req.query());
  if (!r.success) throw new BadInput(describeIssues(r.error));
  return r.data;
}

export function param<T extends z.ZodType>(c: Context<AppEnv>, name: string, schema: T): z.infer<T> {
  const r = schema.safeParse(c.req.param(name));
  if (!r.success) throw new BadInput(`${name}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}

/** An ISO 8601 time, normalised to the audit's own form (UTC, milliseconds) so string order is time order. */
export const isoTime = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time such as 2026-01-31T14:00:00Z')
  .transform((s) => new Date(s).toISOString());
