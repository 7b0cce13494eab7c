// The /admin route group: ADMIN only (401 without a token, 403 for other roles), every input validated.

import { Hono } from 'hono';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import { AdminError, UserAdmin } from '../admin/users.js';
import { createMetrics } from '../admin/metrics.js';
import { requireRole, requireSession, type AppEnv } from './auth.js';
import { BadInput } from './admin-validate.js';
import { adminUserRoutes } from './admin-users.js';
import { adminLiveRoutes } from './admin-live.js';
import { adminAuditRoutes } from './admin-audit.js';
import { adminBackupRoutes } from './admin-backup.js';

export function adminRoutes(ctx: ServerContext, hub: Hub): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const metrics = createMetrics(ctx, hub);

  app.onError((err, c) => {
    if (err instanceof BadInput) return c.json({ error: err.message }, 400);
    if (err instanceof AdminError) return c.json({ error: err.message }, err.status);
    ctx.log.error({ err: err.message, path: c.req.path }, 'admin request failed');
    return c.json({ error: 'Something went wrong on the server' }, 500);
  });
  app.use('*', requireSession(ctx), requireRole('ADMIN'));

  app.get('/metrics', (c) => {
    c.header('content-type', metrics.contentType);
    return c.body(metrics.text());
  });
  app.route('/users', adminUserRoutes(new UserAdmin(ctx, hub)));
  app.route('/backups', adminBackupRoutes(ctx));
  app.route('/', adminLiveRoutes(ctx, hub));
  app.route('/', adminAuditRoutes(ctx, hub));
  app.all('*', (c) => c.json({ error: 'No such admin endpoint' }, 404));
  return app;
}
