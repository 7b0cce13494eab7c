// Bounds how long a connection may hold a socket without using it. Node's own limits (headersTimeout,
// requestTimeout, keepAliveTimeout) did not close anything on a server that also listens for
// WebSocket upgrades (Node 20: a socket that sent nothing, or half its headers, was still open after
// 100 s), so a client could hold open sockets by the thousand and leave the server without file
// descriptors, for connections and for SQLite alike.

import type { IncomingMessage, Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node's own bounds on reading a request, for `http.createServer`: an idle bound alone lets a client
 * that trickles a byte now and then hold a socket. Measured before these were set (an outside
 * slowloris test, HTTP_IDLE_MS=4000): trickled headers held a socket for 90 s, a trickled body for
 * 330 s (Node's defaults of 60 s and 300 s, checked every 30 s). The whole request must now be in
 * within `idleMs`, its headers within a quarter of it, checked every quarter of it (at most 30 s).
 */
export function requestBounds(idleMs: number): ServerOptions {
  if (idleMs <= 0) return {};
  const quarter = Math.max(1, Math.round(idleMs / 4));
  return { requestTimeout: idleMs, headersTimeout: quarter, connectionsCheckingInterval: Math.min(30_000, quarter) };
}

/**
 * `idleMs`: how long a socket may go with nothing sent or received, while a request is being read or
 * answered and between requests. Before its first request (or WebSocket upgrade) is whole, a quarter
 * of that. A WebSocket, once upgraded, is not bounded here (the ws library lifts the timeout; the hub's
 * heartbeat looks after it), and the notification stream writes a ping every 15 s.
 */
export function boundIdleSockets(server: Server, idleMs: number): void {
  if (idleMs <= 0) return;
  const first = Math.max(1, Math.round(idleMs / 4));
  // Idle timers restart with every byte: the first request (or upgrade) must also be whole by a
  // deadline, or a client sending a header byte now and then holds the socket (Node's headersTimeout
  // is only checked every connectionsCheckingInterval, and upgrades were held 90 s).
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>();
  server.on('connection', (socket: Socket) => {
    socket.setTimeout(first);
    const deadline = setTimeout(() => socket.destroy(), first);
    deadline.unref();
    deadlines.set(socket, deadline);
    socket.once('close', () => clearTimeout(deadline));
  });
  const whole = (req: IncomingMessage): void => {
    const deadline = deadlines.get(req.socket as Socket);
    if (deadline === undefined) return;
    clearTimeout(deadline);
    deadlines.delete(req.socket as Socket);
  };
  // Ahead of the application's own listener: a route that lifts the bound (`unbounded`) may do so
  // before its first await, which is still inside that listener, and must not be overridden here.
  server.prependListener('request', (req: IncomingMessage) => {
    whole(req);
    req.socket.setTimeout(idleMs);
  });
  server.prependListener('upgrade', whole);
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
