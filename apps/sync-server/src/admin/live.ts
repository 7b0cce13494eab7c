// What the server is doing right now: open records, who is connected, and how big each record is.

import * as Y from 'yjs';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import type { Room } from '../sync/room.js';
import { CLOSE } from '../sync/protocol.js';
import { AdminError } from './users.js';

export interface ClientView {
  connId: number;
  docName: string;
  userId: string;
  username: string;
  name: string;
  role: string;
  device: string | null;
  ip: string | null;
  userAgent: string | null;
  since: string;
  ext: boolean;
}

export interface DocStats {
  docName: string;
  open: boolean;
  connections: number;
  /** Length of Y.encodeStateAsUpdate of the live document (only when open). */
  memoryBytes: number | null;
  snapshotBytes: number;
  logBytes: number;
  logRows: number;
  updatesSinceSnapshot: number | null;
  openedAt: string | null;
}

export function clients(hub: Hub): ClientView[] {
  const out: ClientView[] = [];
  for (const room of hub.rooms.values()) {
    for (const c of room.conns) {
      const a = c.actor;
      out.push({
        connId: c.id, docName: room.name, userId: a.userId, username: a.username, name: a.name, role: a.role,
        device: a.device, ip: a.ip, userAgent: a.userAgent, since: new Date(c.since).toISOString(), ext: c.ext,
      });
    }
  }
  return out;
}

export function docStats(ctx: ServerContext, hub: Hub, docName: string): DocStats {
  const room = hub.rooms.get(docName);
  if (!room && !ctx.docs.exists(docName)) throw new AdminError(404, `No record named ${docName}`);
  const disk = ctx.docs.sizeOf(docName);
  return {
    docName, open: Boolean(room), connections: room?.conns.size ?? 0,
    memoryBytes: room ? Y.encodeStateAsUpdate(room.doc).length : null,
    ...disk,
    updatesSinceSnapshot: room?.updatesSinceSnapshot ?? null,
    openedAt: room ? new Date(room.openedAt).toISOString() : null,
  };
}

/** Open documents with their stats; the size of every stored document would be a full scan, so only open ones. */
export function openDocs(ctx: ServerContext, hub: Hub): DocStats[] {
  return [...hub.rooms.keys()].map((name) => docStats(ctx, hub, name));
}

/** Writes a snapshot of the live document now and waits until it is on disk. */
export async function compactNow(ctx: ServerContext, hub: Hub, docName: string): Promise<DocStats> {
  let room: Room | undefined = hub.rooms.get(docName);
  if (!room) {
    if (!ctx.docs.exists(docName)) throw new AdminError(404, `No record named ${docName}`);
    room = hub.open(docName); // unloads itself again after UNLOAD_DELAY_MS
  }
  room.compact();
  await ctx.queue.whenDurable();
  return docStats(ctx, hub, docName);
}

/**
 * Closes one connection. With `revoke` its token dies too and the close code is 4401, after which stock
 * clients stop reconnecting; without it the code is 4000, and a client whose token is still good comes back.
 */
export function disconnect(ctx: ServerContext, hub: Hub, connId: number, revoke: boolean): ClientView {
  const view = clients(hub).find((c) => c.connId === connId);
  const conn = hub.connections().find((c) => c.id === connId);
  if (!view || !conn) throw new AdminError(404, `No live connection ${connId}`);
  if (revoke) ctx.sessions.revoke(conn.tokenHash);
  if (revoke) conn.close(CLOSE.unauthorized, 'Signed out by an administrator');
  else conn.close(4000, 'Disconnected by an administrator');
  return view;
}
