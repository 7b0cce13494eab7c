// The top bar: the app's pages, whether this device is online, and who is signed in.
import { ROLE_LABELS } from '@pamoja/permissions';
import type { Session } from '../session/session.js';
import { signOut } from '../session/api.js';
import { useOnline } from './online.js';
import { unsavedRecords } from '../record/connection/save-tracker.js';

export interface NavLink {
  href: string;
  label: string;
  /** Shown only to these roles; everyone when absent. */
  roles?: readonly string[];
}

export function Header({ session, links, path }: { session: Session; links: NavLink[]; path: string }) {
  const online = useOnline();
  return (
    <header className="topbar">
      <a className="brand" href="#/">Pamoja</a>
      <nav>
        {links.filter((l) => !l.roles || l.roles.includes(session.user.role)).map((l) => (
          <a key={l.href} href={`#${l.href}`} className={path === l.href || (l.href !== '/' && path.startsWith(l.href)) ? 'active' : ''}>{l.label}</a>
        ))}
      </nav>
      <span className={`net ${online ? 'online' : 'offline'}`} data-testid="network">{online ? 'Online' : 'Offline'}</span>
      <span className="who" data-user={session.user.username}>{session.user.name} · {ROLE_LABELS[session.user.role]}</span>
      <button type="button" className="secondary" onClick={() => {
        // Changes not yet on the server stay on this device, for this person: say so before they go.
        const waiting = unsavedRecords(session.user.id);
        if (waiting > 0 && !window.confirm(`${waiting === 1 ? 'One record has' : `${waiting} records have`} changes the server has not saved yet. They stay on this device and are sent when you sign in here again. Sign out now?`)) return;
        void signOut();
      }}>Sign out</button>
    </header>
  );
}
