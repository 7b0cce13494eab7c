// The live notification stream (Server-Sent Events). Browsers' EventSource cannot set headers, so
// the token may also come as ?token=. A reconnecting EventSource sends Last-Event-ID and gets what
// it missed; a signed-out token's stream is closed at once.

import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ServerContext } from '../context.js';
import type { AppEnv } from '../http/auth.js';
import type { Workflow } from './workflow.js';

const PING_MS = 15_000;

function tokenOf(c: Context<AppEnv>): string | null {
  const header = c.req.header('authorization') ?? '';
  if (header.startsWith('Bearer ')) return header.slice(7).trim();
  return c.req.query('token') ?? null;
}

export function notificationStream(ctx: ServerContext, wf: Workflow) {
  return (c: Context<AppEnv>): Response | Promise<Response> => {
    const session = ctx.sessions.check(tokenOf(c));
    if (!session) return c.json({ error: 'Sign in first: missing, expired or revoked token' }, 401);
    const user = session.user;
    const lastSeen = Number(c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? NaN);
    return streamSSE(c, async (stream) => {
      let closed = false;
      let wake = (): void => {};
      const done = new Promise<void>((r) => {
        wake = r;
      });
      const finish = (): void => {
        if (closed) return;
        closed = true;
        remove();
        clearInterval(ping);
        wake();
      };
      const send = (event: string, data: unknown): void => {
        if (closed) return;
        const id = event === 'notification' ? String((data as { id: number }).id) : undefined;
        stream.writeSSE({ event, data: JSON.stringify(data), ...(id ? { id } : {}) }).catch(finish);
      };
      const remove = wf.live.add({ userId: user.id, role: user.role, tokenHash: session.tokenHash, send, close: finish });
      stream.onAbort(finish);
      const ping = setInterval(() => {
        stream.write(': ping\n\n').catch(finish);
      }, PING_MS);
      send('hello', {
        user: { id: user.id, username: user.username, role: user.role },
        ...wf.notifications.counts(user.id), critical: wf.notifications.criticalUnread(user.id),
      });
      if (Number.isInteger(lastSeen) && lastSeen >= 0) for (const n of wf.notifications.since(user.id, lastSeen)) send('notification', n);
      await done;
    });
  };
}
