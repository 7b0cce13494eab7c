// /admin/users: staff accounts and roles.

import { Hono } from 'hono';
import * as v from './validate.js';
import { ROLES } from '@pamoja/permissions';
import type { UserAdmin } from '../admin/users.js';
import type { AppEnv } from './auth.js';
import { BadInput, body, param } from './admin-validate.js';

const Username = v.string().trim().min(2, 'must be at least 2 characters').max(40)
  .regex(/^[a-z0-9._-]+$/, 'may use lower-case letters, digits, dot, dash and underscore');
const Name = v.personName();
const Password = v.string().min(8, 'must be at least 8 characters').max(200);
const Role = v.oneOf(ROLES);
const UserId = v.string().min(1).max(100);

const CreateUser = v.strictObject({ username: Username, name: Name, role: Role, password: Password });
const EditUser = v.strictObject({ name: Name.optional(), role: Role.optional(), disabled: v.boolean().optional() });
const ResetPassword = v.strictObject({ password: Password, signOut: v.boolean().default(true) });

export function adminUserRoutes(users: UserAdmin): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => c.json(users.list()));

  app.post('/', async (c) => {
    const input = await body(c, CreateUser);
    return c.json(await users.create(c.get('actor'), input), 201);
  });

  app.get('/:id', (c) => c.json(users.get(param(c, 'id', UserId))));

  /** Name, role and enabled state; refused whole or applied whole (see UserAdmin.edit). */
  app.patch('/:id', async (c) => {
    const id = param(c, 'id', UserId);
    const edit = await body(c, EditUser);
    if (edit.name === undefined && edit.role === undefined && edit.disabled === undefined) {
      throw new BadInput('Send at least one of name, role, disabled');
    }
    return c.json(users.edit(c.get('actor'), id, edit));
  });

  app.post('/:id/password', async (c) => {
    const id = param(c, 'id', UserId);
    const input = await body(c, ResetPassword);
    return c.json(await users.resetPassword(c.get('actor'), id, input.password, input.signOut));
  });

  return app;
}
