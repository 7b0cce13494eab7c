// Resolving a conflict: someone allowed to write the field picks the value; the record keeps both
// the choice and who made it.

import * as Y from 'yjs';
import { checkValue, conflictsOf, fieldSpecOf, jsonText, mapSpecOf, parseUnitPath, type Conflict, type VisitStatus } from '@pamoja/schema';
import { canTransition, canWriteKind, refusalReason, ROLE_LABELS } from '@pamoja/permissions';
import type { Room } from '../sync/room.js';
import type { Actor } from '../gate/actor.js';

export type ResolveResult = { ok: true; conflict: Conflict } | { ok: false; status: 400 | 403 | 404 | 409; error: string };

function resolvePath(doc: Y.Doc, path: string): { map: Y.Map<unknown>; key: string; kind: string } | null {
  const parts = path.split('/');
  const key = parts.pop();
  const unit = parseUnitPath(parts.join('/'));
  if (!unit || !key) return null;
  let target: Y.AbstractType<any> | undefined = doc.getMap(parts[0]!);
  for (const seg of parts.slice(1)) target = target instanceof Y.Map ? (target.get(seg) as Y.AbstractType<any> | undefined) : undefined;
  return target instanceof Y.Map ? { map: target as Y.Map<unknown>, key, kind: unit.kind } : null;
}

/** Values as JSON holds them: equal when they read the same. */
const sameValue = (a: unknown, b: unknown): boolean => jsonText(a ?? null) === jsonText(b ?? null);

export function resolveConflict(room: Room, actor: Actor, conflictId: string, value: unknown): ResolveResult {
  const conflicts = conflictsOf(room.doc);
  const conflict = conflicts.get(conflictId);
  if (!conflict) return { ok: false, status: 404, error: 'No such conflict on this record' };
  if (conflict.resolved) return { ok: false, status: 409, error: `Already resolved by ${conflict.resolved.by}` };
  const target = resolvePath(room.doc, conflict.path);
  if (!target) return { ok: false, status: 409, error: 'The field of this conflict no longer exists' };
  const unit = parseUnitPath(conflict.path.split('/').slice(0, -1).join('/'))!;
  if (!canWriteKind(actor.role, unit.kind)) return { ok: false, status: 403, error: refusalReason(actor.role, unit.kind) };
  const spec = mapSpecOf(unit.kind);
  const fspec = (spec && fieldSpecOf(spec, target.key)) ?? spec?.entries;
  if (!fspec) return { ok: false, status: 400, error: 'This field cannot be set this way' };
  if (value !== null) {
    const bad = checkValue(fspec, value, target.key);
    if (bad) return { ok: false, status: 400, error: bad };
  }
  // A pick is one of the values in conflict, not a new one: that would be an edit of its own.
  if (!conflict.values.some((v) => sameValue(v.value, value))) {
    return { ok: false, status: 400, error: 'Pick one of the values in conflict' };
  }
  const old = target.map.get(target.key);
  if (unit.kind === 'visits/*/workflow' && target.key === 'status' && !sameValue(old, value)) {
    // The status still moves only along the steps this role may take.
    const from = (old ?? null) as VisitStatus | null;
    if (!canTransition(actor.role, from, value as VisitStatus)) {
      return { ok: false, status: 403, error: `A ${ROLE_LABELS[actor.role].toLowerCase()} cannot move a visit from ${from ?? 'nothing'} to ${String(value)}` };
    }
  }
  const resolved: Conflict = { ...conflict, resolved: { value, by: actor.username, at: new Date().toISOString() } };
  room.writeAsServer(() => {
    if (value === null) target.map.delete(target.key);
    else target.map.set(target.key, value);
    conflicts.set(conflictId, resolved);
  }, actor, [{
    action: 'RESOLVE_CONFLICT', outcome: 'applied', patientId: room.patientId, visitId: unit.visitId ?? null,
    path: conflict.path, oldValue: old, newValue: value, detail: `conflict ${conflictId}`,
  }]);
  return { ok: true, conflict: resolved };
}
