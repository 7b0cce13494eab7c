// Who is behind a connection or request: the identity every check and audit row uses.
import type { Role } from '@pamoja/permissions';

export interface Actor {
  userId: string;
  username: string;
  name: string;
  role: Role;
  device: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** The server itself (seeding, restoring reverted content, conflict bookkeeping). */
export const SYSTEM_ACTOR: Actor = {
  userId: 'system', username: 'system', name: 'Pamoja', role: 'ADMIN', device: null, ip: null, userAgent: null,
};
