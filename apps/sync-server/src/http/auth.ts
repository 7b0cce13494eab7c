// Login, logout and "who am I", plus the middleware that turns a Bearer token into a session.

import type { IncomingMessage } from 'node:http';
import { Hono, type MiddlewareHandler } from 'hono';
import * as v from './validate.js';
import { LoginThrottle } from '../auth/throttle.js';
import type { Role } from '@pamoja/permissions';
import type { ServerContext } from '../context.js';
import type { Session } from '../auth/sessions.js';
import type { Actor } from '../gate/actor.js';

export type AppEnv = { Variables: { session: Session; actor: Actor } };

export function actorFromRequest(session: Session, headers: Headers, ip: string | null): Actor {
  return {
    userId: session.user.id, username: session.user.username, name: session.user.name, role: session.user.role,
    device: headers.get('x-device')?.slice(0, 100) ?? session.device, ip,
    userAgent: headers.get('user-agent')?.slice(0, 300) ?? null,
  };
}

/** The Node request behind a Hono context (@hono/node-server passes it as `env.incoming`). */
export function incomingOf(c: { env: unknown }): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

function clientIp(c: { env: unknown }): string | null {
  return incomingOf(c)?.socket?.remoteAddress ?? null;
}

export function requireSession(ctx: ServerContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : null;
    const session = ctx.sessions.check(token);
    if (!session) return c.json({ error: 'Sign in first: missing, expired or revoked token' }, 401);
    c.set('session', session);
    c.set('actor', actorFromRequest(session, c.req.raw.headers, clientIp(c)));
    await next();
  };
}

export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const role = c.get('session').user.role;
    if (!roles.includes(role)) return c.json({ error: `This needs the ${roles.join(' or ')} role` }, 403);
    await next();
  };
}

const LoginBody = v.object({
  username: v.string().min(1).max(100),
  password: v.string().min(1).max(200),
  device: v.string().max(100).optional(),
});

export function authRoutes(ctx: ServerContext, throttle = new LoginThrottle()): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/login', async (c) => {
    const body = LoginBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return c.json({ error: 'Send JSON {username, password}' }, 400);
    const { username, password, device } = body.data;
    const ip = clientIp(c);
    const base = { ip, device: device ?? null, userAgent: c.req.header('user-agent') ?? null };
    const wait = throttle.begin(ip, username);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      c.header('retry-after', String(seconds));
      return c.json({ error: `Too many wrong passwords from this device; try again in ${seconds} s` }, 429);
    }
    let user: Awaited<ReturnType<typeof ctx.users.authenticate>> = null;
    try {
      user = await ctx.users.authenticate(username, password);
    } finally {
      throttle.settle(ip, username, user !== null);
    }
    if (!user) {
      ctx.audit.record({ userId: '', username, name: '', role: 'RECEPTIONIST', ...base }, [
        { action: 'LOGIN', outcome: 'denied', detail: 'wrong username or password, or account disabled' },
      ]);
      return c.json({ error: 'Wrong username or password' }, 401);
    }
    const { token, expiresAt } = ctx.sessions.issue(user, device ?? null);
    ctx.audit.record({ userId: user.id, username: user.username, name: user.name, role: user.role, ...base }, [
      { action: 'LOGIN', outcome: 'ok' },
    ]);
    return c.json({
      token, expiresAt: new Date(expiresAt).toISOString(),
      user: { id: user.id, username: user.username, name: user.name, role: user.role },
    });
  });

  app.post('/logout', requireSession(ctx), (c) => {
    const s = c.get('session');
    ctx.sessions.revoke(s.tokenHash);
    ctx.audit.record(c.get('actor'), [{ action: 'LOGOUT', outcome: 'ok' }]);
    return c.json({ ok: true });
  });

  app.get('/me', requireSession(ctx), (c) => {
    const u = c.get('session').user;
    return c.json({ user: { id: u.id, username: u.username, name: u.name, role: u.role } });
  });

  return app;
}
