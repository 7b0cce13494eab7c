// Puts back what a refused update deleted. Yjs cannot undelete, so an UndoManager re-creates the
// deleted content as new items; its stack item is narrowed to exactly the refused changes first.

import * as Y from 'yjs';

interface Range { clock: number; len: number }

/** A Yjs DeleteSet holding exactly these items (sorted, as Yjs's binary search expects). */
function deleteSetOf(items: Y.Item[]): ReturnType<typeof Y.createDeleteSet> {
  const ds = Y.createDeleteSet();
  const byClient = new Map<number, Range[]>();
  for (const it of items) {
    const list = byClient.get(it.id.client) ?? [];
    list.push({ clock: it.id.clock, len: it.length });
    byClient.set(it.id.client, list);
  }
  for (const [client, list] of byClient) {
    list.sort((a, b) => a.clock - b.clock);
    const merged: Range[] = [];
    for (const r of list) {
      const last = merged[merged.length - 1];
      if (last && last.clock + last.len >= r.clock) last.len = Math.max(last.len, r.clock + r.len - last.clock);
      else merged.push({ ...r });
    }
    (ds.clients as Map<number, Range[]>).set(client, merged);
  }
  return ds;
}

/**
 * Created inside the gate's transaction (so it records it), then `restore()` after the transaction
 * re-creates the refused deletions in a transaction of its own.
 */
export class Restorer {
  private readonly um: Y.UndoManager;

  constructor(doc: Y.Doc, origin: unknown, private readonly deletions: Y.Item[], private readonly refusedInserts: Y.Item[]) {
    this.um = new Y.UndoManager(doc, {
      trackedOrigins: new Set([origin]),
      captureTimeout: 0,
      ignoreRemoteMapChanges: true,
    });
  }

  /** Runs the compensating transaction; returns false when Yjs could not re-create something. */
  restore(): boolean {
    const stack = this.um.undoStack;
    const item = stack[stack.length - 1];
    let ok = true;
    if (item) {
      item.deletions = deleteSetOf(this.deletions);
      item.insertions = deleteSetOf(this.refusedInserts);
      ok = this.um.undo() !== null;
    } else ok = this.deletions.length === 0;
    const doc = this.um.doc;
    this.um.clear();
    this.um.destroy();
    // The originals stay deleted; now that nothing keeps them, let Yjs drop their content.
    const ds = deleteSetOf(this.deletions);
    Y.transact(doc, (tr) => Y.tryGc(ds, tr.doc.store, doc.gcFilter));
    return ok;
  }
}
