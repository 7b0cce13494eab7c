// The administrator's page: staff accounts, who is connected, the audit trail, backups.
import { useState } from 'react';
import type { Session } from '../session/session.js';
import { UsersPanel } from './UsersPanel.js';
import { LivePanel } from './LivePanel.js';
import { AuditPanel } from './AuditPanel.js';
import { BackupsPanel } from './BackupsPanel.js';
import './admin.css';

const TABS = { users: 'Staff', live: 'Live', audit: 'Audit', backups: 'Backups' } as const;
type Tab = keyof typeof TABS;

export function AdminPage({ session }: { session: Session }) {
  const [tab, setTab] = useState<Tab>('users');
  if (session.user.role !== 'ADMIN') return <p className="page">This page is for the clinic's administrator.</p>;
  return (
    <div className="page admin">
      <div className="admin-tabs" role="tablist">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? '' : 'secondary'} onClick={() => setTab(t)}>
            {TABS[t]}
          </button>
        ))}
      </div>
      {tab === 'users' && <UsersPanel me={session.user.id} />}
      {tab === 'live' && <LivePanel />}
      {tab === 'audit' && <AuditPanel />}
      {tab === 'backups' && <BackupsPanel />}
    </div>
  );
}
