// /admin/live, /admin/docs, /admin/connections: what is open and who is on it, right now.

import { Hono } from 'hono';
import * as v from './validate.js';
import { patientIdFromDocName } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import { clients, compactNow, disconnect, docStats, openDocs } from '../admin/live.js';
import type { AppEnv } from './auth.js';
import { body, param } from './admin-validate.js';

const DocName = v.string().refine((s) => patientIdFromDocName(s) !== null, 'must look like patient:<id>');
const ConnId = v.number().int().min(1);
const Disconnect = v.strictObject({ revoke: v.boolean().default(false) });

export function adminLiveRoutes(ctx: ServerContext, hub: Hub): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/live', (c) => {
    const docs = openDocs(ctx, hub);
    const conns = clients(hub);
    return c.json({ rooms: docs.length, connections: conns.length, documents: docs, clients: conns });
  });

  app.get('/docs/:docName', (c) => c.json(docStats(ctx, hub, param(c, 'docName', DocName))));

  app.post('/docs/:docName/compact', async (c) => {
    const docName = param(c, 'docName', DocName);
    const stats = await compactNow(ctx, hub, docName);
    ctx.audit.record(c.get('actor'), [{ action: 'DOC_COMPACT', outcome: 'ok', path: docName }]);
    return c.json(stats);
  });

  app.post('/connections/:connId/disconnect', async (c) => {
    const connId = param(c, 'connId', ConnId);
    const { revoke } = await body(c, Disconnect);
    const closed = disconnect(ctx, hub, connId, revoke);
    ctx.audit.record(c.get('actor'), [{
      action: 'SESSION_DISCONNECT', outcome: 'ok', path: `users/${closed.username}`, detail: `${closed.docName} connection ${connId}${revoke ? ', token revoked' : ''}`,
    }]);
    return c.json({ closed, revoked: revoke });
  });

  return app;
}
