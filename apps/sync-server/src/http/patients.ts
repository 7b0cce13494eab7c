// The patient list, search, registration and return visits.

import { Hono } from 'hono';
import * as v from './validate.js';
import { SEXES, PAYMENT_TYPES, docNameFor } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import { openReturnVisit, registerPatient } from '../records/register.js';
import { requireRole, requireSession, type AppEnv } from './auth.js';
import { body } from './admin-validate.js';

/** A calendar date that exists (Date.parse would roll 2023-02-29 over to 1 March). */
const realDate = (d: string): boolean => !Number.isNaN(Date.parse(d)) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;

const RegisterBody = v.object({
  firstName: v.personName(),
  lastName: v.personName(),
  sex: v.oneOf(SEXES),
  dateOfBirth: v.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').refine((d) => realDate(d) && d <= new Date().toISOString().slice(0, 10), 'must be a real date, not in the future'),
  phone: v.string().trim().max(32).regex(/^[+\d][\d\s-]*$/, 'must be digits, spaces, - or a leading +').optional().or(v.literal('')),
  otherNames: v.text(100).optional(),
  nationalId: v.text(40).optional(),
  paymentType: v.oneOf(PAYMENT_TYPES).optional(),
  department: v.text(80).optional(),
  /** Register even though a patient with the same name and date of birth exists. */
  allowDuplicate: v.boolean().optional(),
});

/** A return visit; the request may have no body at all. */
const ReturnVisitBody = v.object({ paymentType: v.oneOf(PAYMENT_TYPES).optional() });

export function patientRoutes(ctx: ServerContext, hub: Hub): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireSession(ctx));

  app.get('/', async (c) => c.json(await ctx.patients.list(c.req.query('q'))));

  app.get('/:id', (c) => {
    const p = ctx.patients.byId(c.req.param('id'));
    return p ? c.json(p) : c.json({ error: 'No such patient' }, 404);
  });

  app.post('/', requireRole('RECEPTIONIST'), async (c) => {
    const raw = await c.req.json().catch(() => undefined);
    if (raw === undefined) return c.json({ error: 'The body must be JSON' }, 400);
    const parsed = RegisterBody.safeParse(raw);
    if (!parsed.success) return c.json({ error: v.describeIssues(parsed.issues) }, 400);
    const input = parsed.data;
    if (!input.allowDuplicate) {
      const twin = ctx.db.prepare(
        'SELECT id, op_number FROM patients WHERE lower(first_name) = lower(?) AND lower(last_name) = lower(?) AND date_of_birth = ?',
      ).get(input.firstName, input.lastName, input.dateOfBirth) as { id: string; op_number: string } | undefined;
      if (twin) {
        return c.json({
          error: `${input.firstName} ${input.lastName} born ${input.dateOfBirth} is already registered as ${twin.op_number}; open a new visit for them instead`,
          existingId: twin.id, opNumber: twin.op_number,
        }, 409);
      }
    }
    const r = registerPatient(ctx, hub, c.get('actor'), { ...input, phone: input.phone || undefined });
    return c.json(r, 201);
  });

  app.post('/:id/visits', requireRole('RECEPTIONIST'), async (c) => {
    const id = c.req.param('id');
    if (!ctx.patients.byId(id)) return c.json({ error: 'No such patient' }, 404);
    const { paymentType } = await body(c, ReturnVisitBody, { emptyAs: {} });
    const room = hub.open(docNameFor(id));
    const open = [...room.doc.getMap('visits').values()].some((v) => {
      const s = (v as import('yjs').Map<import('yjs').Map<unknown>>).get('workflow')?.get('status');
      return s && s !== 'COMPLETED';
    });
    if (open) return c.json({ error: 'This patient already has an open visit' }, 409);
    const visitId = openReturnVisit(ctx, hub, c.get('actor'), id, paymentType);
    return c.json({ id, visitId }, 201);
  });

  return app;
}
