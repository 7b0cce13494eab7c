// Test helpers for the workflow: a Server-Sent-Events reader over plain fetch, and small API calls.

import { api, until } from './server.js';

export interface SseEvent {
  event: string;
  id: string | null;
  data: unknown;
}

export interface SseClient {
  events: SseEvent[];
  /** Events named `notification`, their payloads. */
  notifications: () => Notification[];
  waitFor: (pred: (e: SseEvent) => boolean, what: string, timeoutMs?: number) => Promise<SseEvent>;
  close: () => void;
  /** The server ended the stream (or it was closed here). */
  readonly closed: boolean;
}

export interface Notification {
  id: number;
  kind: string;
  severity: string;
  critical: boolean;
  title: string;
  body: string;
  patientId: string | null;
  visitId: string | null;
  read: boolean;
}

/** Opens the notification stream; the token goes in the Authorization header or, as EventSource must, in the query. */
export async function openStream(base: string, token: string, opts: { viaQuery?: boolean; lastEventId?: number } = {}): Promise<SseClient> {
  const ac = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (!opts.viaQuery) headers.authorization = `Bearer ${token}`;
  if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
  const res = await fetch(`${base}/api/notifications/stream${opts.viaQuery ? `?token=${encodeURIComponent(token)}` : ''}`, { headers, signal: ac.signal });
  if (res.status !== 200 || !res.body) throw new Error(`stream: ${res.status}`);
  const events: SseEvent[] = [];
  let closed = false;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let event = 'message';
          let id: string | null = null;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) events.push({ event, id, data: JSON.parse(data.join('\n')) });
        }
      }
    } catch {
      // aborted
    }
    closed = true;
  })();
  const client: SseClient = {
    events,
    notifications: () => events.filter((e) => e.event === 'notification').map((e) => e.data as Notification),
    waitFor: async (pred, what, timeoutMs = 5000) => {
      await until(() => events.some(pred), timeoutMs, what);
      return events.find(pred)!;
    },
    close: () => ac.abort(),
    get closed() {
      return closed;
    },
  };
  await client.waitFor((e) => e.event === 'hello', 'stream hello');
  return client;
}

export const isNote = (kind: string, patientId: string) => (e: SseEvent): boolean =>
  e.event === 'notification' && (e.data as Notification).kind === kind && (e.data as Notification).patientId === patientId;

export interface AssignmentView {
  id: number; step: string; queueRole: string; assigneeId: string | null; assigneeName: string | null;
  priority: string; status: string; createdBy: string | null; endedBy: string | null; notes: string | null;
}

export async function assignments(base: string, token: string, patientId: string, visitId: string) {
  return (await api<{ active: AssignmentView | null; history: AssignmentView[]; steps: { step: string; waitMs: number; serviceMs: number | null; open: boolean; takenBy: string | null }[] }>(
    base, token, 'GET', `/api/visits/${patientId}/${visitId}/assignments`)).body;
}

export const transition = (base: string, token: string, patientId: string, visitId: string, to: string, notes?: string) =>
  api<{ error?: string; from?: string; to?: string; assignment?: AssignmentView | null }>(base, token, 'POST', `/api/visits/${patientId}/${visitId}/transition`, { to, ...(notes ? { notes } : {}) });

export const take = (base: string, token: string, patientId: string, visitId: string) =>
  api<{ error?: string; assignment?: AssignmentView; assignee?: { id: string; name: string } | null }>(base, token, 'POST', `/api/visits/${patientId}/${visitId}/take`);

export async function worklist(base: string, token: string, role?: string) {
  return api<{ role: string; items: { patientId: string; visitId: string; priority: string; step: string; waitMinutes: number; assignee: { id: string; name: string } | null; mine: boolean }[] }>(
    base, token, 'GET', `/api/worklist${role ? `?role=${role}` : ''}`);
}
