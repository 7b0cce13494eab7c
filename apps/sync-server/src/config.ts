// Every setting of the server in one place, from environment variables with documented defaults.

import fs from 'node:fs';
import path from 'node:path';

export interface Config {
  /** PORT: HTTP and WebSocket port. Default 8787. */
  port: number;
  /** HOST: interface to listen on. Default 0.0.0.0 (reachable by the clinic's tablets). */
  host: string;
  /** DATA_DIR: where the SQLite database lives. Default ./data */
  dataDir: string;
  /** SESSION_TTL_HOURS: how long a login token lives. Default 12 (one shift). */
  sessionTtlMs: number;
  /**
   * MAX_FRAME_BYTES: largest WebSocket message accepted. Default 8 MiB (a long offline shift fits).
   * Twice it (16 MiB) is also what may wait unsent for one connection beyond the largest message
   * waiting for it; past that the connection is closed with 4503 (see Conn.admit).
   */
  maxFrameBytes: number;
  /** RATE_LIMIT_MSGS_PER_SEC / RATE_LIMIT_BURST: per-connection message budget. Defaults 200 / 2000. */
  rateLimitPerSec: number;
  rateLimitBurst: number;
  /** SNAPSHOT_EVERY: compact a document's update log into a snapshot after this many updates. Default 500. */
  snapshotEvery: number;
  /** SQLITE_SYNCHRONOUS: FULL (fsync every commit, default) or NORMAL. */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** SEED_DEMO: seed the demo clinic on an empty database. Default true; set 0 to start empty. */
  seedDemo: boolean;
  /** WEB_DIST: built web app to serve. Default apps/web/dist. */
  webDist: string;
  /** LOG_LEVEL: fatal, error, warn, info, debug. Default info. */
  logLevel: string;
  /** UNLOAD_DELAY_MS: keep a document in memory this long after its last client leaves. Default 5000. */
  unloadDelayMs: number;
  /**
   * HEARTBEAT_MS: ping every connection this often; one that has sent nothing and answered no ping
   * for two beats running is dropped (a tablet gone from the network without closing). Default 30000; 0 = off.
   */
  heartbeatMs: number;
  /**
   * MAX_CONNECTIONS_PER_USER: open WebSocket connections one account may hold at once (all its devices
   * and records together); past it an upgrade is refused with 429. Default 500; 0 = no limit.
   */
  maxConnectionsPerUser: number;
  /**
   * HTTP_IDLE_MS: close an HTTP connection that sends and receives nothing this long, within a request
   * or between requests; one that has not sent a whole first request (or WebSocket upgrade) within a
   * quarter of it is closed too. Default 120000; 0 = off.
   */
  httpIdleMs: number;
  /** ALLOWED_ORIGINS: comma-separated browser origins allowed to open WebSockets; empty = any. */
  allowedOrigins: string[];
  /** BACKUP_DIR: where POST /admin/backups writes. Unset (null): <DATA_DIR>/backups; better another disk. */
  backupDir: string | null;
  /** GATE: `on` (default). `off` turns the role check off; for benchmarks only, never in a clinic. */
  gate: boolean;
}

/** The checkout this server runs from, whether from source (tsx) or from the bundle in dist/. */
function findRepoRoot(): string {
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'apps/web')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}
const repoRoot = findRepoRoot();

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const sync = (env.SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') throw new Error('SQLITE_SYNCHRONOUS must be FULL or NORMAL');
  return {
    port: num(env, 'PORT', 8787),
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || './data'),
    sessionTtlMs: num(env, 'SESSION_TTL_HOURS', 12) * 3600_000,
    maxFrameBytes: num(env, 'MAX_FRAME_BYTES', 8 * 1024 * 1024),
    rateLimitPerSec: num(env, 'RATE_LIMIT_MSGS_PER_SEC', 200),
    rateLimitBurst: num(env, 'RATE_LIMIT_BURST', 2000),
    snapshotEvery: num(env, 'SNAPSHOT_EVERY', 500),
    sqliteSynchronous: sync,
    seedDemo: !['0', 'false', 'no'].includes((env.SEED_DEMO ?? '1').toLowerCase()),
    webDist: path.resolve(env.WEB_DIST || path.join(repoRoot, 'apps/web/dist')),
    logLevel: env.LOG_LEVEL || 'info',
    unloadDelayMs: num(env, 'UNLOAD_DELAY_MS', 5000),
    heartbeatMs: num(env, 'HEARTBEAT_MS', 30_000),
    maxConnectionsPerUser: num(env, 'MAX_CONNECTIONS_PER_USER', 500),
    httpIdleMs: num(env, 'HTTP_IDLE_MS', 120_000),
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    gate: (env.GATE ?? 'on').toLowerCase() !== 'off',
    backupDir: env.BACKUP_DIR ? path.resolve(env.BACKUP_DIR) : null,
  };
}
