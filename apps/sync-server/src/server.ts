// Builds the server from its parts and starts it: storage, audit, accounts, the sync hub and HTTP.

import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { serve } from '@hono/node-server';
import { loadConfig, type Config } from './config.js';
import { createLogger } from './log.js';
import { openDatabase, walPathOf } from './storage/db.js';
import { CommitQueue } from './storage/commit-queue.js';
import { DocStore } from './storage/doc-store.js';
import { AuditLog } from './audit/audit-log.js';
import { Users } from './auth/users.js';
import { Sessions } from './auth/sessions.js';
import { PatientProjection } from './projections/patients.js';
import { Hub } from './sync/hub.js';
import type { ServerContext, ServerEvents } from './context.js';
import { authRoutes, type AppEnv } from './http/auth.js';
import { patientRoutes } from './http/patients.js';
import { conflictRoutes } from './http/conflicts.js';
import { staticFiles } from './http/static.js';
import { adminRoutes } from './http/admin.js';
import { mountWorkflow } from './http/workflow.js';
import { seedDemoClinic } from './seed/demo.js';
import { BadInput } from './http/admin-validate.js';
import { boundIdleSockets, requestBounds } from './http/sockets.js';

export interface RunningServer {
  url: string;
  port: number;
  ctx: ServerContext;
  hub: Hub;
  app: Hono<AppEnv>;
  /** The HTTP server (WebSocket upgrades come through it too). */
  http: Server;
  close: () => Promise<void>;
}

export function createContext(config: Config): ServerContext {
  const log = createLogger(config.logLevel);
  const db = openDatabase(config.dataDir, config.sqliteSynchronous);
  let audit: AuditLog | null = null;
  let docs: DocStore | null = null;
  const queue = new CommitQueue(db, {
    onError: (err) => {
      log.error({ err: err.message }, 'commit failed');
      if (!db.open) return;
      audit?.resync();
      docs?.resync();
    },
    onCallbackError: (err) => log.error({ err: err.message, stack: err.stack }, 'error after a commit'),
    walPath: config.sqliteSynchronous === 'FULL' ? walPathOf(config.dataDir) : null,
    checkpointEveryMs: 5000,
    syncGapMs: 20,
    // Rooms commit what they have checked once a batch has been open this long (see commit-queue.ts).
    maxBatchMs: 1,
    // Audit rows of edits (kept in the edits' log rows meanwhile) are written every 100 ms at most.
    laterMs: 100,
    // An edit with its audit row comes to about 20 KB of WAL frames (the WAL reached 50 MB in 5 s at
    // 500 edits a second): SQLite writes 4 MB in about 0.4 s, and a look every 100 ms stays ahead.
    warmWal: { aheadBytes: 4 * 1024 * 1024, everyMs: 100, onError: (err) => log.warn({ err: err.message }, 'could not read the WAL ahead') },
    // Under that load a checkpoint starts about once a second instead of every 5 s: the WAL's file
    // stayed at 14 MB instead of 50, its pages are rewritten often enough to stay in the page cache,
    // and each copy on the event loop is shorter (0.8 ms typical, 3.6 ms at most, against 1.6 and 12.5).
    checkpointAtWalBytes: 8 * 1024 * 1024,
  });
  const users = new Users(db);
  audit = new AuditLog(db, queue);
  const auditLog = audit;
  docs = new DocStore(db, queue, () => auditLog.writeIntents());
  return {
    config, log, db, queue, users, audit, docs,
    sessions: new Sessions(db, users, config.sessionTtlMs),
    patients: new PatientProjection(db, queue),
    events: new EventEmitter<ServerEvents>(),
    metrics: { updatesAccepted: 0, updatesRefused: 0, messagesIn: 0, bytesIn: 0, connectionsRefused: 0, connectionsBehind: 0 },
  };
}

/** Largest HTTP request body accepted (sign-ins, registrations, conflict picks, admin edits). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Counts requests being answered, until their response has gone out, so a shutdown lets them finish
 * before the database closes. The notification stream stays open for as long as its page is: it is
 * not waited for.
 */
export class InFlight {
  private n = 0;
  private idle: (() => void)[] = [];

  watch(server: Server): void {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/api/notifications/stream')) return;
      this.n++;
      res.once('close', () => {
        if (--this.n === 0) for (const f of this.idle.splice(0)) f();
      });
    });
  }

  /** Resolves once no request is being answered, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
    if (this.n === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idle.push(() => (clearTimeout(t), resolve()));
    });
  }
}

export function buildApp(ctx: ServerContext, hub: Hub): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((err, c) => {
    if (err instanceof BadInput) return c.json({ error: err.message }, 400);
    ctx.log.error({ err: err.message, path: c.req.path }, 'request failed');
    return c.json({ error: 'Something went wrong on the server; nothing was changed' }, 500);
  });
  // Every body the API takes is a small JSON object; a larger one is refused before it is read.
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: `The request body is over the limit of ${MAX_BODY_BYTES / 1024} KB` }, 413),
  });
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limit(c, next)));
  // A change made over HTTP (a registration and its OP number, a hand-off, a conflict picked) is
  // answered once it is on disk, like a `saved` over WebSocket: a receptionist handed an OP number
  // must find the patient after a crash or a power cut. Registered first, so it waits for what every
  // later handler and middleware wrote.
  app.use('*', async (c, next) => {
    await next();
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.res.status >= 400) return;
    try {
      await ctx.queue.whenDurable();
    } catch (e) {
      ctx.log.error({ err: e instanceof Error ? e.message : String(e), path: c.req.path }, 'a change made over HTTP could not be saved');
      c.res = c.json({ error: 'The server could not save this change to disk; check whether it took effect before trying again' }, 503);
    }
  });
  app.get('/healthz', (c) => {
    try {
      ctx.db.prepare('SELECT 1').get();
      return c.json({ ok: true, rooms: hub.rooms.size, connections: hub.connections().length });
    } catch {
      return c.json({ ok: false }, 503);
    }
  });
  app.route('/api/auth', authRoutes(ctx));
  mountWorkflow(app, ctx, hub); // before the patient routes: it follows registrations
  app.route('/api/patients', patientRoutes(ctx, hub));
  app.route('/api/patients', conflictRoutes(ctx, hub));
  app.route('/admin', adminRoutes(ctx, hub));
  app.all('/api/*', (c) => c.json({ error: 'No such endpoint' }, 404));
  app.get('*', staticFiles(ctx.config.webDist));
  return app;
}

/** How long a shutdown waits for requests being handled. */
const SHUTDOWN_GRACE_MS = 5000;

export async function startServer(overrides: Partial<Config> = {}): Promise<RunningServer> {
  const config = { ...loadConfig(), ...overrides };
  const ctx = createContext(config);
  const hub = new Hub(ctx);
  if (config.seedDemo && (await seedDemoClinic(ctx, hub))) {
    ctx.queue.flush();
    ctx.log.info('Seeded the demo clinic: users reception, nurse, clinician, lab, pharmacy, cashier and admin, each with password "demo"');
  }
  const app = buildApp(ctx, hub);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions: requestBounds(config.httpIdleMs) }, () => {
      s.off('error', refused);
      // Only once the port is ours: a second copy started by mistake on the same data directory
      // must not write into the database of the one already serving. Before any connection is read.
      const caughtUp = ctx.audit.catchUp();
      if (caughtUp > 0) ctx.log.warn({ edits: caughtUp }, 'wrote the audit rows of edits stored just before the server stopped');
      resolve(s as Server);
    });
    // A port already taken (often a second copy of the server) or not ours to open: say which, and
    // close the database cleanly, rather than an unhandled 'error' event with a stack trace.
    const refused = (err: NodeJS.ErrnoException): void => {
      hub.close();
      ctx.queue.close();
      ctx.db.close();
      const where = `${config.host}:${config.port}`;
      reject(new Error(
        err.code === 'EADDRINUSE' ? `port ${config.port} is already in use on ${config.host} (is Pamoja already running?); set PORT to a free port`
          : err.code === 'EACCES' ? `not allowed to listen on ${where}; ports below 1024 need privileges, set PORT to 1024 or above`
            : `could not listen on ${where}: ${err.message}`,
      ));
    };
    s.once('error', refused);
  });
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  boundIdleSockets(server, config.httpIdleMs);
  const inFlight = new InFlight();
  inFlight.watch(server);
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;
  ctx.log.info({ url, dataDir: config.dataDir }, `Pamoja is serving on ${url}`);
  let closed = false;
  return {
    url, port, ctx, hub, app, http: server,
    close: async () => {
      if (closed) return;
      closed = true;
      hub.close();
      // No new requests; those being handled (a sign-in hashing its password, a registration) finish
      // and have their writes committed before the database closes.
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections?.();
      await inFlight.settled(SHUTDOWN_GRACE_MS);
      server.closeAllConnections?.();
      await stopped;
      ctx.queue.close();
      ctx.db.close();
    },
  };
}
