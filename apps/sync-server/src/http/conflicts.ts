// POST /api/patients/:id/conflicts/:conflictId/resolve {value}: pick the value of a conflicted field.

import { Hono } from 'hono';
import { docNameFor } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import { resolveConflict } from '../records/conflicts.js';
import { requireSession, type AppEnv } from './auth.js';
import { body } from './admin-validate.js';
import * as v from './validate.js';

/** The value to keep. */
const Resolve = v.object({ value: v.present() });

export function conflictRoutes(ctx: ServerContext, hub: Hub): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireSession(ctx));
  app.post('/:id/conflicts/:conflictId/resolve', async (c) => {
    const id = c.req.param('id');
    if (!ctx.patients.byId(id) && !ctx.docs.exists(docNameFor(id))) return c.json({ error: 'No such patient' }, 404);
    const { value } = await body(c, Resolve);
    const r = resolveConflict(hub.open(docNameFor(id)), c.get('actor'), c.req.param('conflictId'), value);
    return r.ok ? c.json(r.conflict) : c.json({ error: r.error }, r.status);
  });
  return app;
}
