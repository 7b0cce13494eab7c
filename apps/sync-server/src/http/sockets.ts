// Bounds how long a connection may hold a socket without using it. Node's own limits (headersTimeout,
// requestTimeout, keepAliveTimeout) did not close anything on a server that also listens for
// WebSocket upgrades (Node 20: a socket that sent nothing, or half its headers, was still open after
// 100 s), so a client could hold open sockets by the thousand and leave the server without file
// descriptors, for connections and for SQLite alike.

import type { IncomingMessage, Server } from 'node:http';

/**
 * `idleMs`: how long a socket may go with nothing sent or received, while a request is being read or
 * answered and between requests. Before its first request (or WebSocket upgrade) is whole, a quarter
 * of that. A WebSocket, once upgraded, is not bounded here (the ws library lifts the timeout; the hub's
 * heartbeat looks after it), and the notification stream writes a ping every 15 s.
 */
export function boundIdleSockets(server: Server, idleMs: number): void {
  if (idleMs <= 0) return;
  server.on('connection', (socket) => socket.setTimeout(Math.max(1, Math.round(idleMs / 4))));
  // Ahead of the application's own listener: a route that lifts the bound (`unbounded`) may do so
  // before its first await, which is still inside that listener, and must not be overridden here.
  server.prependListener('request', (req: IncomingMessage) => req.socket.setTimeout(idleMs));
}

/** For a request that may rightly be silent for long (a backup being written): lifts the bound until `work` ends. */
export async function unbounded<T>(req: IncomingMessage | undefined, idleMs: number, work: () => Promise<T>): Promise<T> {
  req?.socket.setTimeout(0);
  try {
    return await work();
  } finally {
    if (req && !req.socket.destroyed && idleMs > 0) req.socket.setTimeout(idleMs);
  }
}
