// /admin/audit: search, CSV export and hash-chain verification; /admin/patients/:id/history.

import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import * as v from './validate.js';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import { auditCsv, searchAudit } from '../admin/audit-query.js';
import { recordHistory } from '../admin/record-history.js';
import { nextTurn } from '../next-turn.js';
import type { AppEnv } from './auth.js';
import { BadInput, isoTime, param, query } from './admin-validate.js';

const OUTCOMES = ['applied', 'reverted-forbidden', 'conflict', 'ok', 'denied', 'error'] as const;
const Filter = v.strictObject({
  patientId: v.string().min(1).max(64).optional(),
  user: v.string().min(1).max(100).optional(),
  path: v.string().min(1).max(300).optional(),
  action: v.string().regex(/^[A-Z_]{2,40}$/, 'must be an action name such as UPDATE, VIEW, LOGIN').optional(),
  outcome: v.oneOf(OUTCOMES).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
});
const Page = Filter.extend({
  limit: v.number().int().min(1).max(1000).default(100),
  cursor: v.number().int().min(0).optional(),
  order: v.oneOf(['asc', 'desc']).default('desc'),
});
const History = v.strictObject({ at: isoTime.optional(), path: v.string().max(300).optional() });
const PatientId = v.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a patient id');

function checkRange(f: { from?: string; to?: string }): void {
  if (f.from && f.to && f.from > f.to) throw new BadInput('from must not be after to');
}

export function adminAuditRoutes(ctx: ServerContext, hub: Hub): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/audit', async (c) => {
    const { limit, cursor, order, ...filter } = query(c, Page);
    checkRange(filter);
    ctx.queue.flush(); // rows queued this turn are part of the answer
    return c.json(await searchAudit(ctx.db, filter, { limit, cursor, order }));
  });

  app.get('/audit/export', (c) => {
    const filter = query(c, Filter);
    checkRange(filter);
    ctx.queue.flush();
    ctx.audit.record(c.get('actor'), [{ action: 'AUDIT_EXPORT', outcome: 'ok', detail: JSON.stringify(filter) }]);
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', `attachment; filename="pamoja-audit-${new Date().toISOString().slice(0, 10)}.csv"`);
    return stream(c, async (s) => {
      for (const chunk of auditCsv(ctx.db, filter)) {
        if (chunk) await s.write(chunk);
        else await nextTurn();
      }
    });
  });

  app.get('/audit/verify', async (c) => {
    ctx.queue.flush();
    const t0 = performance.now();
    const r = await ctx.audit.verifyInSteps();
    return c.json({ ...r, ms: Math.round(performance.now() - t0) });
  });

  app.get('/patients/:id/history', (c) => {
    const id = param(c, 'id', PatientId);
    const q = query(c, History);
    const h = recordHistory(ctx, hub, id, q.at ?? null, q.path ?? '');
    ctx.audit.record(c.get('actor'), [{ action: 'VIEW_HISTORY', outcome: 'ok', patientId: id, detail: q.at ?? null }]);
    return c.json({
      patientId: id, ...h,
      exactness: 'Map fields (demographics, contact, every map section of a visit) are exact: the audit keeps each change\'s old and new value. ' +
        'Text and notes are exact only when unchanged since the time asked; their changes are kept as summaries. ' +
        'Values the server wrote itself other than at registration (opening a return visit, resolving conflicts) have no per-field rows.',
    });
  });

  return app;
}
