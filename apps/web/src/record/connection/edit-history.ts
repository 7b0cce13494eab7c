// "Last changed by": who changed each unit of the record, as this session saw it happen. The writer
// of a remote change is found from the Yjs client ids that advanced in the transaction, named by the
// server-stamped presence of those clients.
import * as Y from 'yjs';
import { Store } from './store.js';
import type { PresenceUser } from './presence-types.js';

export interface LastChange {
  name: string;
  roleLabel: string;
  at: number;
  mine: boolean;
}

/** `visits/<id>/<section>` or a root unit name, for any type inside the record. */
export function unitPathOf(doc: Y.Doc, type: Y.AbstractType<unknown>): string | null {
  const segs: string[] = [];
  let t: Y.AbstractType<unknown> = type;
  while (t._item) {
    segs.unshift(t._item.parentSub ?? '#');
    t = t._item.parent as Y.AbstractType<unknown>;
  }
  let root: string | null = null;
  for (const [name, shared] of doc.share) if (shared === t) root = name;
  if (!root) return null;
  segs.unshift(root);
  return root === 'visits' ? (segs.length >= 3 ? segs.slice(0, 3).join('/') : null) : root;
}

export class EditHistory {
  readonly changes = new Store<ReadonlyMap<string, LastChange>>(new Map());
  /** Users seen behind each Yjs client id; kept after they leave so late updates still have a name. */
  private readonly known = new Map<number, PresenceUser>();

  constructor(private readonly doc: Y.Doc, private readonly me: PresenceUser) {}

  learn(clientId: number, user: PresenceUser): void {
    this.known.set(clientId, user);
  }

  /** A change the server refused and undid: it is not the unit's last change after all. */
  forget(fieldPath: string): void {
    const segs = fieldPath.split('/');
    const unit = segs[0] === 'visits' ? segs.slice(0, 3).join('/') : segs[0]!;
    const e = this.changes.get().get(unit);
    if (!e?.mine) return;
    const next = new Map(this.changes.get());
    next.delete(unit);
    this.changes.set(next);
  }

  /** Called after every transaction once the record has synced (history is not attributed). */
  observe(tr: Y.Transaction, local: boolean): void {
    let writer: PresenceUser | null = local ? this.me : null;
    if (!local) {
      for (const [client, clock] of tr.afterState) {
        if (clock > (tr.beforeState.get(client) ?? 0) && this.known.has(client)) writer = this.known.get(client)!;
      }
    }
    if (!writer) return;
    const units = new Set<string>();
    for (const type of tr.changed.keys()) {
      const p = unitPathOf(this.doc, type as Y.AbstractType<unknown>);
      if (p) units.add(p);
    }
    if (!units.size) return;
    const next = new Map(this.changes.get());
    const entry: LastChange = { name: writer.name, roleLabel: writer.roleLabel, at: Date.now(), mine: local };
    for (const u of units) next.set(u, entry);
    this.changes.set(next);
  }
}
