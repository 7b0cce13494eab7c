// How deep an update would nest shared types, read from its bytes and the record before applying it.

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { deepestNesting } from '../../apps/sync-server/src/gate/nesting.js';

/** Maps nested `depth` deep under `parent[key]`. */
function nest(parent: Y.Map<unknown> | Y.Array<unknown>, depth: number, key = 'k'): Y.Map<unknown> {
  let m = new Y.Map<unknown>();
  if (parent instanceof Y.Map) parent.set(key, m);
  else parent.push([m]);
  for (let i = 1; i < depth; i++) {
    const n = new Y.Map<unknown>();
    m.set('k', n);
    m = n;
  }
  return m;
}

/** The update `change` makes to a copy of `server`, and that copy's store before it. */
function updateTo(server: Y.Doc, change: (d: Y.Doc) => void): Uint8Array {
  const d = new Y.Doc();
  Y.applyUpdate(d, Y.encodeStateAsUpdate(server));
  const sv = Y.encodeStateVector(d);
  d.transact(() => change(d));
  return Y.encodeStateAsUpdate(d, sv);
}

describe('deepestNesting', () => {
  it('counts the levels an update creates, from a top-level type', () => {
    const server = new Y.Doc();
    for (const depth of [1, 2, 7, 150]) {
      expect(deepestNesting([updateTo(server, (d) => nest(d.getMap('m'), depth))], server.store)).toBe(depth);
    }
    expect(deepestNesting([updateTo(server, (d) => d.getMap('m').set('x', 1))], server.store)).toBe(0);
  });

  it('adds the levels the record already has above where the update writes', () => {
    const server = new Y.Doc();
    Y.applyUpdate(server, updateTo(server, (d) => nest(d.getMap('m'), 40)));
    let inner = server.getMap('m').get('k') as Y.Map<unknown>;
    while (inner.get('k') instanceof Y.Map) inner = inner.get('k') as Y.Map<unknown>;
    const path: string[] = [];
    for (let t: Y.AbstractType<any> = inner; t._item; t = t._item.parent as Y.AbstractType<any>) path.unshift(t._item.parentSub!);
    const u = updateTo(server, (d) => {
      let at = d.getMap('m');
      for (const k of path) at = at.get(k) as Y.Map<unknown>;
      nest(at, 3);
    });
    expect(deepestNesting([u], server.store)).toBe(43);
  });

  it('follows long chains of neighbours without recursion, within one update and across several', () => {
    const server = new Y.Doc();
    /** Maps nested `depth` deep, placed at the start of `list` (beside what was first). */
    const nestFirst = (list: Y.Array<unknown>, depth: number): void => {
      const m = new Y.Map<unknown>();
      list.insert(0, [m]);
      if (depth > 1) nest(m, depth - 1);
    };
    const first = updateTo(server, (d) => {
      const list = new Y.Array<unknown>();
      d.getArray('a').push([list]);
      // 200,000 items, each placed before the one before it (named as its right neighbour), then
      // nested maps before them all: a chain of 200,000 references to follow.
      for (let i = 0; i < 200_000; i++) list.insert(0, [i]);
      nestFirst(list, 3);
    });
    expect(deepestNesting([first], server.store)).toBe(4);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, first);
    const sv = Y.encodeStateVector(doc);
    nestFirst(doc.getArray('a').get(0) as Y.Array<unknown>, 6);
    const second = Y.encodeStateAsUpdate(doc, sv);
    // Read together, before either is applied: the second's maps stand beside the first's.
    expect(deepestNesting([first, second], server.store)).toBe(7);
  });

  it('an item whose neighbour is nowhere counts from the top and does not throw', () => {
    const server = new Y.Doc();
    const other = new Y.Doc();
    other.getArray('a').push([1]);
    const sv = Y.encodeStateVector(other);
    const list = new Y.Array<unknown>();
    other.getArray('a').push([list]);
    const u = Y.encodeStateAsUpdate(other, sv); // its left neighbour (the 1) is not in it, nor on the server
    expect(deepestNesting([u], server.store)).toBe(1);
  });
});
