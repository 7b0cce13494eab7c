// What the server stamps on every presence state, and what this app adds about where a person is.
import type { Role } from '@pamoja/permissions';

export interface PresenceUser {
  id: string;
  username: string;
  name: string;
  role: Role;
  roleLabel: string;
  color: string;
}

export type Activity = 'viewing' | 'editing' | 'typing' | 'idle';

export interface PresenceState {
  user?: PresenceUser;
  section?: string;
  field?: string;
  activity?: Activity;
  visitId?: string;
}

export interface Peer extends PresenceState {
  clientId: number;
  user: PresenceUser;
}
