// Online or offline, and whether everything changed here is on the server's disk ("All changes saved").
import { useStore } from './connection/store.js';
import { useRecord } from './RecordContext.js';
import { useOnline } from '../shell/online.js';
import { formatTime } from './format.js';

export function SyncStatus() {
  const { conn } = useRecord();
  const link = useStore(conn.link);
  const save = useStore(conn.save.state);
  const online = useOnline();
  let state: 'offline' | 'connecting' | 'saving' | 'saved';
  let text: string;
  if (!online || link.status === 'offline') {
    state = 'offline';
    text = save.unsaved
      ? 'Offline · your changes are kept on this device and will be sent when the network is back'
      : 'Offline · you can keep working; changes are kept on this device';
  } else if (link.status === 'connecting' || !link.synced) {
    state = 'connecting';
    text = save.unsaved ? 'Connecting · changes not yet saved' : 'Connecting…';
  } else if (save.unsaved) {
    state = 'saving';
    text = 'Saving…';
  } else {
    state = 'saved';
    text = save.lastSavedAt ? `All changes saved (${formatTime(save.lastSavedAt)})` : 'All changes saved';
  }
  return (
    <div className={`sync-status ${state}`} data-testid="sync-status" data-state={state} role="status">
      <span className="dot" aria-hidden="true" /> {text}
      {link.closed && <span className="error"> · {link.closed}</span>}
    </div>
  );
}
