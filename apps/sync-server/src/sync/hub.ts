// The WebSocket side of the server: authenticate the upgrade, open rooms on first use, decode each
// message within limits, and hand it to its room. Bad input closes that one connection, nothing else.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import * as decoding from 'lib0/decoding';
import { patientIdFromDocName } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Actor } from '../gate/actor.js';
import { Account, Conn } from './conn.js';
import { DenialAudit } from '../audit/denials.js';
import { MalformedMessage, Room } from './room.js';
import { CLOSE, MSG_AUTH, MSG_AWARENESS, MSG_EXT, MSG_QUERY_AWARENESS, MSG_SYNC } from './protocol.js';

/** Heartbeats in a row a connection may stay silent before it is dropped (see Hub.beat). */
export const SILENT_BEATS = 2;
/** Each heartbeat period is taken in this many turns, each for its share of the connections. */
const BEAT_SLICES = 10;

/** What may wait unsent for one person's connections together, in connections' worth. */
const ACCOUNT_UNSENT_CONNECTIONS = 8;

/** Largest extension message (JSON: locks, unlocks) accepted. */
export const MAX_EXT_BYTES = 16 * 1024;

export class Hub {
  readonly rooms = new Map<string, Room>();
  readonly wss: WebSocketServer;
  private readonly lockTimer: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout | null = null;
  private beats = 0;
  private readonly denials = new DenialAudit();
  /** Open connections by user id, for MAX_CONNECTIONS_PER_USER. */
  /** Each person's open connections (see Account), for the bounds they share. */
  private readonly accounts = new Map<string, Account>();

  constructor(private readonly ctx: ServerContext) {
    // Frames up to twice the limit are read and refused with a reason; past that, ws stops reading
    // at the frame header and closes with 1009 and no reason.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.maxFrameBytes * 2 });
    ctx.sessions.onRevoke((tokenHash) => this.closeSessions((c) => c.tokenHash === tokenHash, CLOSE.unauthorized, 'Signed out'));
    this.lockTimer = setInterval(() => {
      for (const r of this.rooms.values()) if (r.locks.expire()) r.broadcastLocks();
    }, 10_000);
    this.lockTimer.unref();
    if (ctx.config.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.beat(this.beats++ % BEAT_SLICES), ctx.config.heartbeatMs / BEAT_SLICES);
      this.heartbeat.unref();
    }
  }

  /**
   * A tablet that leaves the network without closing its connection (out of Wi-Fi range, battery
   * out) would otherwise stay on the record for as long as TCP keeps the socket: shown as present to
   * everyone, holding its field locks, keeping the record in memory. Each beat pings every
   * connection; browsers and the ws library answer pings by themselves. One that has sent nothing
   * and answered no ping for two beats running is dropped: one beat would be enough for a tablet that
   * is gone, but a tablet still taking in a large record over a slow link only sees the ping once
   * the record's bytes ahead of it have reached it. A dropped tablet reconnects and syncs when it is
   * back, like after any disconnect. Connections take their beats in BEAT_SLICES turns spread over
   * the period, so 2,000 of them are not all pinged, and all answer, in the same moment.
   */
  private beat(slice: number): void {
    for (const c of this.connections()) {
      if (c.id % BEAT_SLICES !== slice || c.ws.readyState !== c.ws.OPEN) continue;
      c.silentBeats = c.heard ? 0 : c.silentBeats + 1;
      c.heard = false;
      if (c.silentBeats >= SILENT_BEATS) {
        this.ctx.log.info({ user: c.actor.username, device: c.actor.device }, 'no answer to pings: connection dropped');
        c.ws.terminate(); // no closing handshake: nobody is there to answer it
        continue;
      }
      c.ws.ping();
    }
  }

  /** HTTP upgrade on /sync/<docName>?token=...: refused before any WebSocket exists unless all is well. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string): void => {
      this.ctx.metrics.connectionsRefused++;
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      socket.destroy();
    };
    if (!url.pathname.startsWith('/sync/')) return refuse(404, 'Not Found');
    let docName: string;
    try {
      docName = decodeURIComponent(url.pathname.slice('/sync/'.length));
    } catch {
      return refuse(400, 'Bad document name');
    }
    if (!patientIdFromDocName(docName)) return refuse(404, 'Unknown document; expected patient:<id>');
    const origin = req.headers.origin;
    const allowed = this.ctx.config.allowedOrigins;
    if (origin && allowed.length && !allowed.includes(origin)) return refuse(403, 'Origin not allowed');
    const session = this.ctx.sessions.check(url.searchParams.get('token'));
    if (!session) {
      this.auditDenied(null, req, docName, 'missing, bad, expired or revoked token');
      return refuse(401, 'Unauthorized');
    }
    const actor: Actor = {
      userId: session.user.id, username: session.user.username, name: session.user.name, role: session.user.role,
      device: url.searchParams.get('device')?.slice(0, 100) ?? session.device,
      ip: req.socket.remoteAddress ?? null,
      userAgent: (req.headers['user-agent'] ?? '').slice(0, 300) || null,
    };
    // One account's connections are bounded, so a stolen or misused token cannot take the server's
    // memory by opening connections to every record. One login shared by a ward's tablets stays well
    // within the default.
    const limit = this.ctx.config.maxConnectionsPerUser;
    if (limit > 0 && (this.accounts.get(session.user.id)?.conns.size ?? 0) >= limit) {
      this.ctx.log.warn({ user: session.user.username, limit }, 'too many connections for one account');
      this.auditDenied(actor, req, docName, `over ${limit} open connections for this account`);
      return refuse(429, `Too many connections for this account (at most ${limit} at once)`);
    }
    // Records exist for registered patients only: anyone may otherwise open `patient:<anything>` and
    // write into a record no list shows, kept for good.
    if (!this.rooms.has(docName) && !this.ctx.patients.byId(patientIdFromDocName(docName)!) && !this.ctx.docs.exists(docName)) {
      return refuse(404, 'No such patient');
    }
    const ext = url.searchParams.get('ext') === '1';
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, docName, actor, session.tokenHash, ext));
  }

  /** Audits a refused upgrade, within its address's budget (audit/denials.ts). */
  private auditDenied(actor: Actor | null, req: IncomingMessage, docName: string, reason: string): void {
    const address = req.socket.remoteAddress ?? null;
    const unrecorded = this.denials.take(address);
    if (unrecorded === null) return;
    const detail = `${reason} (from ${address ?? 'an unknown address'}${unrecorded ? `; ${unrecorded} more refused from there since the last one recorded` : ''})`;
    this.ctx.audit.record(actor, [{ action: 'CONNECT', outcome: 'denied', path: docName, detail }]);
  }

  private room(docName: string): Room {
    let room = this.rooms.get(docName);
    if (!room || room.broken !== null) {
      // The copy is read from disk: what the broken copy accepted must be there first. A room that
      // broke down in this turn of the loop may have accepted updates still waiting in the open
      // batch. Opened without them, the new copy would take the next copy of those clocks (a client
      // sending them again, perhaps different) while the log keeps the first: memory, disk and
      // clients would disagree for good.
      if (room) this.ctx.queue.commitOpenBatch();
      room = new Room(docName, this.ctx);
      this.rooms.set(docName, room);
    }
    if (room.unloadTimer) {
      clearTimeout(room.unloadTimer);
      room.unloadTimer = null;
    }
    return room;
  }

  private accept(ws: WebSocket, docName: string, actor: Actor, tokenHash: string, ext: boolean): void {
    const cfg = this.ctx.config;
    let account = this.accounts.get(actor.userId);
    // Eight connections' worth (each may have twice MAX_FRAME_BYTES waiting): a ward's tablets on
    // one login, several taking in a large record over a slow link at once, fit.
    if (!account) account = new Account(ACCOUNT_UNSENT_CONNECTIONS * 2 * cfg.maxFrameBytes);
    const conn = new Conn(ws, actor, tokenHash, ext, cfg.rateLimitPerSec, cfg.rateLimitBurst, account);
    conn.onFellBehind = (reason) => {
      this.ctx.metrics.connectionsBehind++;
      this.ctx.log.warn({ user: actor.username, device: actor.device, doc: docName, reason }, 'connection closed: too far behind');
    };
    let room: Room;
    try {
      room = this.room(docName);
    } catch (e) {
      this.ctx.log.error({ err: e, docName }, 'could not open document');
      conn.close(1011, 'The record could not be opened');
      return;
    }
    ws.binaryType = 'nodebuffer';
    account.add(conn);
    this.accounts.set(actor.userId, account);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(room, conn, data, isBinary));
    ws.on('close', () => this.onClose(room, conn));
    ws.on('pong', () => (conn.heard = true));
    ws.on('error', (err) => this.ctx.log.warn({ err: err.message, user: actor.username }, 'websocket error'));
    room.join(conn);
  }

  private onMessage(room: Room, conn: Conn, data: Buffer, isBinary: boolean): void {
    if (room.broken !== null) return; // its connections are being closed
    conn.heard = true;
    const m = this.ctx.metrics;
    m.messagesIn++;
    m.bytesIn += data.length;
    if (data.length > this.ctx.config.maxFrameBytes) {
      this.ctx.log.warn({ user: conn.actor.username, bytes: data.length }, 'message over the size limit');
      conn.close(CLOSE.tooLarge, `Message too large: ${data.length} bytes; the limit is ${this.ctx.config.maxFrameBytes}`);
      return;
    }
    if (!conn.takeToken()) {
      this.ctx.log.warn({ user: conn.actor.username }, 'rate limit exceeded');
      conn.close(CLOSE.rateLimited, 'Too many messages; slow down');
      return;
    }
    if (!isBinary) {
      conn.close(CLOSE.malformed, 'Expected a binary y-websocket message');
      return;
    }
    try {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
      const d = decoding.createDecoder(bytes);
      const type = decoding.readVarUint(d);
      switch (type) {
        case MSG_SYNC:
          room.onSync(conn, d);
          break;
        case MSG_AWARENESS:
          if (!conn.takePresence(data.length)) {
            this.ctx.log.warn({ user: conn.actor.username }, 'presence over its budget');
            conn.close(CLOSE.rateLimited, 'Too much presence data; slow down');
            return;
          }
          room.onAwareness(conn, decoding.readVarUint8Array(d));
          break;
        case MSG_QUERY_AWARENESS:
          room.onQueryAwareness(conn);
          break;
        case MSG_AUTH:
          break; // clients have nothing to say here
        case MSG_EXT: {
          // Lock requests and the like are a few hundred bytes; parsing 7 MB of JSON held every room
          // for 0.44 s.
          if (data.length > MAX_EXT_BYTES) throw new MalformedMessage(`an extension message is at most ${MAX_EXT_BYTES / 1024} KB`);
          const body = JSON.parse(decoding.readVarString(d)) as unknown;
          if (!body || typeof body !== 'object') throw new MalformedMessage('extension message must be a JSON object');
          room.onExt(conn, body as Record<string, unknown>);
          break;
        }
        default:
          throw new MalformedMessage(`unknown message type ${type}`);
      }
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.ctx.log.warn({ user: conn.actor.username, doc: room.name, reason }, 'malformed message');
      conn.close(CLOSE.malformed, `Malformed message: ${reason}`);
    }
  }

  private onClose(room: Room, conn: Conn): void {
    const account = conn.account!;
    account.remove(conn);
    if (account.conns.size === 0 && this.accounts.get(conn.actor.userId) === account) this.accounts.delete(conn.actor.userId);
    room.leave(conn);
    if (room.conns.size === 0 && !room.unloadTimer) {
      room.unloadTimer = setTimeout(() => this.unload(room), this.ctx.config.unloadDelayMs);
      room.unloadTimer.unref();
    }
  }

  /** Writes a final snapshot and frees the document once nobody is on it. */
  unload(room: Room): void {
    if (room.conns.size > 0) return;
    room.unloadTimer = null;
    if (room.updatesSinceSnapshot > 0) room.compact();
    // Sessions that announced themselves and never wrote: their claims go with the last person out.
    const editors = [...room.doc.store.clients.keys()];
    if (room.owners.size > editors.length + 1 && room.broken === null) this.ctx.docs.forgetIdleSessions(room.name, editors);
    if (this.rooms.get(room.name) === room) this.rooms.delete(room.name); // not its fresh copy
    this.ctx.queue.afterCommit(() => room.destroy());
  }

  /** Opens (or returns) a room without a connection: for the HTTP API's server-side writes. */
  open(docName: string): Room {
    const room = this.room(docName);
    if (room.conns.size === 0 && !room.unloadTimer) {
      room.unloadTimer = setTimeout(() => this.unload(room), this.ctx.config.unloadDelayMs);
      room.unloadTimer.unref();
    }
    return room;
  }

  connections(): Conn[] {
    return [...this.rooms.values()].flatMap((r) => [...r.conns]);
  }

  closeSessions(match: (c: Conn) => boolean, code: number, reason: string): number {
    let n = 0;
    for (const c of this.connections()) if (match(c)) (c.close(code, reason), n++);
    return n;
  }

  close(): void {
    clearInterval(this.lockTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.connections()) c.close(CLOSE.serverShutdown, 'Server shutting down');
    for (const room of this.rooms.values()) {
      if (room.unloadTimer) clearTimeout(room.unloadTimer);
      if (room.updatesSinceSnapshot > 0) room.compact();
    }
    this.ctx.queue.flush();
    for (const room of this.rooms.values()) room.destroy();
    this.rooms.clear();
    this.wss.close();
  }
}
