// The app's pages. To add one: a line in ROUTES (and one in NAV if it belongs in the top bar).
import type { ReactNode } from 'react';
import { useSession, type Session } from './session/session.js';
import { LoginPage } from './session/LoginPage.js';
import { Header, type NavLink } from './shell/Header.js';
import { matchPath, useLocation } from './router/hash-router.js';
import { PatientListPage } from './patients/PatientListPage.js';
import { RecordPage } from './record/RecordPage.js';
import { AdminPage } from './admin/AdminPage.js';
import { HistoryPage } from './admin/HistoryPage.js';
import { WorklistPage } from './workflow/WorklistPage.js';
import { NotificationCenter } from './workflow/NotificationCenter.js';

type Page = (session: Session, params: Record<string, string>) => ReactNode;

const ROUTES: [pattern: string, page: Page][] = [
  ['/', (s) => <PatientListPage session={s} />],
  ['/patients', (s) => <PatientListPage session={s} />],
  // Keyed by user and patient: a new person or record never reuses another's open connection.
  ['/patients/:id', (s, p) => <RecordPage key={`${s.user.id}:${p.id}`} session={s} patientId={p.id!} />],
  ['/patients/:id/history', (s, p) => <HistoryPage session={s} patientId={p.id!} />],
  ['/admin', (s) => <AdminPage session={s} />],
  ['/worklist', (s) => <WorklistPage session={s} />],
];

const NAV: NavLink[] = [
  { href: '/patients', label: 'Patients' },
  { href: '/worklist', label: 'Worklist' },
  { href: '/admin', label: 'Admin', roles: ['ADMIN'] },
];

export function App() {
  const session = useSession();
  const path = useLocation();
  if (!session) return <LoginPage />;
  let page: ReactNode = <p className="page">No such page. <a href="#/">Back to the patients</a></p>;
  for (const [pattern, render] of ROUTES) {
    const m = matchPath(pattern, path);
    if (m) {
      page = render(session, m.params);
      break;
    }
  }
  return (
    <>
      <Header session={session} links={NAV} path={path} />
      <main key={session.user.id}>{page}</main>
      <NotificationCenter key={`bell:${session.user.id}`} session={session} />
    </>
  );
}
