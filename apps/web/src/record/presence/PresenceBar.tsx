// Who else is on this record right now, their role, and what they are doing; updates live.
import { useStore } from '../connection/store.js';
import { useRecord } from '../RecordContext.js';
import { describeActivity } from './describe.js';

export function PresenceBar() {
  const { conn } = useRecord();
  const peers = useStore(conn.peers);
  return (
    <div className="presence" aria-live="polite" data-presence>
      <span className="muted">On this record:</span>
      <span className="peer me" style={{ borderColor: conn.me.color }}>You ({conn.me.roleLabel})</span>
      {peers.map((p) => (
        <span key={p.clientId} className={`peer activity-${p.activity ?? 'viewing'}`} style={{ borderColor: p.user.color }}
          data-peer={p.user.username}>
          <span className="dot" style={{ background: p.user.color }} aria-hidden="true" />
          {describeActivity(p)}
        </span>
      ))}
    </div>
  );
}
