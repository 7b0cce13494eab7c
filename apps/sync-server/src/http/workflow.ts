// Workflow over HTTP: move a visit on, take a patient from a queue, worklists, notifications (and
// their live stream), the day board. The workflow itself lives in ../workflow/.

import { Hono, type MiddlewareHandler } from 'hono';
import * as v from './validate.js';
import { isRole, ROLE_LABELS, type Role } from '@pamoja/permissions';
import { VISIT_STATUSES } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import { Workflow } from '../workflow/workflow.js';
import { moveVisit } from '../workflow/transition.js';
import { stepTimings } from '../workflow/timings.js';
import { buildBoard } from '../workflow/board.js';
import { notificationStream } from '../workflow/sse.js';
import type { Assignment } from '../workflow/assignments.js';
import { requireSession, type AppEnv } from './auth.js';
import { query } from './admin-validate.js';

const TransitionBody = v.object({
  to: v.oneOf(VISIT_STATUSES),
  notes: v.string().trim().max(1000).optional(),
});

const NotificationsQuery = v.object({ limit: v.number().int().min(1).max(500).default(50) });

const minutesSince = (iso: string): number => Math.round((Date.now() - Date.parse(iso)) / 6000) / 10;

/** Registration opens a visit in the record; this hands it to the triage queue the moment it is saved. */
function afterRegistration(wf: Workflow): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'POST' || c.res.status !== 201) return;
    const body = (await c.res.clone().json().catch(() => null)) as { id?: string; visitId?: string } | null;
    if (body?.id && body.visitId) wf.syncVisit(body.id, body.visitId, c.get('actor') ?? null);
  };
}

export function mountWorkflow(app: Hono<AppEnv>, ctx: ServerContext, hub: Hub): Workflow {
  const wf = new Workflow(ctx, hub);
  app.use('/api/patients/*', afterRegistration(wf));
  app.get('/api/notifications/stream', notificationStream(ctx, wf));
  app.route('/api', workflowRoutes(ctx, wf));
  return wf;
}

function worklistItem(ctx: ServerContext, a: Assignment, me: string) {
  const p = ctx.patients.byId(a.patientId);
  return {
    assignmentId: a.id, patientId: a.patientId, visitId: a.visitId,
    name: p ? `${p.firstName} ${p.lastName}` : '', opNumber: p?.opNumber ?? '', sex: p?.sex ?? '', dateOfBirth: p?.dateOfBirth ?? '',
    triageCategory: p?.visitId === a.visitId ? p.triageCategory : null,
    step: a.step, type: a.type, queueRole: a.queueRole, priority: a.priority,
    queuedAt: a.queuedAt, waitMinutes: minutesSince(a.queuedAt),
    // `away`: signed out everywhere, so a colleague may take the patient over.
    assignee: a.assigneeId ? { id: a.assigneeId, name: a.assigneeName, away: !ctx.sessions.signedIn(a.assigneeId) } : null,
    mine: a.assigneeId === me, notes: a.notes,
  };
}

function workflowRoutes(ctx: ServerContext, wf: Workflow): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('/visits/*', requireSession(ctx));
  app.use('/worklist', requireSession(ctx));
  app.use('/notifications', requireSession(ctx));
  app.use('/notifications/*', requireSession(ctx));
  app.use('/board', requireSession(ctx));

  app.post('/visits/:patientId/:visitId/transition', async (c) => {
    const parsed = TransitionBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: `Send JSON {to, notes?}: ${v.describeIssues(parsed.issues)}` }, 400);
    const { patientId, visitId } = c.req.param();
    const r = moveVisit(wf, c.get('actor'), patientId, visitId, parsed.data.to, parsed.data.notes ?? null);
    if (!r.ok) return c.json({ error: r.error }, r.status);
    return c.json({ patientId, visitId, from: r.from, to: r.to, assignment: wf.assignments.active(visitId) });
  });

  app.post('/visits/:patientId/:visitId/take', (c) => {
    const { patientId, visitId } = c.req.param();
    const actor = c.get('actor');
    if (wf.assignments.active(visitId)?.patientId !== patientId) return c.json({ error: 'This visit is not waiting in any queue' }, 404);
    // A colleague who took the patient and has since signed out everywhere does not hold them for good.
    const r = wf.assignments.take(visitId, { id: actor.userId, role: actor.role }, undefined, (id) => ctx.sessions.signedIn(id));
    if (!r.ok) {
      if (r.code === 'none') return c.json({ error: 'This visit is not waiting in any queue' }, 404);
      if (r.code === 'wrong-role') return c.json({ error: `This patient is waiting for a ${ROLE_LABELS[r.assignment!.queueRole].toLowerCase()}, not a ${ROLE_LABELS[actor.role].toLowerCase()}` }, 403);
      const holder = r.assignment?.assigneeName ?? 'someone else';
      return c.json({ error: `${holder} has already taken this patient`, assignee: r.assignment?.assigneeId ? { id: r.assignment.assigneeId, name: r.assignment.assigneeName } : null }, 409);
    }
    if (!r.already) {
      const from = r.takenOverFrom ? { takenOverFrom: r.takenOverFrom.assigneeName } : {};
      ctx.audit.record(actor, [{ action: 'TAKE', outcome: 'applied', patientId, visitId, path: `visits/${visitId}/workflow`, newValue: { step: r.assignment.step, assignee: actor.username, ...from } }]);
      wf.queuesMoved([r.assignment.queueRole]);
    }
    return c.json({ assignment: r.assignment, already: r.already, takenOverFrom: r.takenOverFrom ? { id: r.takenOverFrom.assigneeId, name: r.takenOverFrom.assigneeName } : null });
  });

  app.post('/visits/:patientId/:visitId/release', (c) => {
    const { patientId, visitId } = c.req.param();
    const actor = c.get('actor');
    const a = wf.assignments.release(visitId, actor.userId);
    if (!a) return c.json({ error: 'You have not taken this patient' }, 409);
    ctx.audit.record(actor, [{ action: 'RELEASE', outcome: 'applied', patientId, visitId, path: `visits/${visitId}/workflow`, newValue: { step: a.step } }]);
    wf.queuesMoved([a.queueRole]);
    return c.json({ assignment: a });
  });

  app.get('/visits/:patientId/:visitId/assignments', (c) => {
    const history = wf.assignments.history(c.req.param('visitId'));
    if (history.length === 0) return c.json({ error: 'No assignments for this visit' }, 404);
    return c.json({ active: history.find((a) => a.status === 'ACTIVE') ?? null, history, steps: stepTimings(history) });
  });

  app.get('/worklist', (c) => {
    const me = c.get('session').user;
    const asked = c.req.query('role');
    let role: Role = me.role;
    if (asked && asked !== me.role) {
      if (me.role !== 'ADMIN') return c.json({ error: 'Only an administrator may look at another role\'s worklist' }, 403);
      if (!isRole(asked)) return c.json({ error: `Unknown role ${asked}` }, 400);
      role = asked;
    }
    if (!asked && me.role === 'ADMIN') return c.json({ error: 'Administrators pick a queue with ?role=' }, 400);
    wf.reconcile();
    return c.json({ role, items: wf.assignments.queue(role).map((a) => worklistItem(ctx, a, me.id)) });
  });

  app.get('/notifications', (c) => {
    const me = c.get('session').user.id;
    const { limit } = query(c, NotificationsQuery);
    const items = wf.notifications.list(me, { unreadOnly: c.req.query('unread') === '1', limit });
    return c.json({ items, ...wf.notifications.counts(me), critical: wf.notifications.criticalUnread(me) });
  });

  app.post('/notifications/read-all', (c) => c.json({ marked: wf.notifications.markAllRead(c.get('session').user.id) }));

  app.post('/notifications/:id/read', (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isInteger(id)) return c.json({ error: 'A notification id is a number' }, 400);
    const n = wf.notifications.markRead(c.get('session').user.id, id);
    return n ? c.json(n) : c.json({ error: 'No such notification for you' }, 404);
  });

  app.get('/board', (c) => {
    wf.reconcile();
    return c.json(buildBoard(ctx.db, wf.assignments));
  });

  return app;
}
