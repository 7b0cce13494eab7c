// Re-render when a Y type (or anything inside it) changes; components then read the type directly.
import { useEffect, useReducer } from 'react';
import type * as Y from 'yjs';

export function useYDeep(type: Y.AbstractType<any> | undefined | null): number {
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!type) return;
    const onChange = (): void => bump();
    type.observeDeep(onChange);
    bump();
    return () => type.unobserveDeep(onChange);
  }, [type]);
  return version;
}

/** Plain entries of an id-keyed map (diagnoses, prescriptions ...), oldest first by their `at`. */
export function entriesOf<T>(map: Y.Map<unknown> | undefined): [string, T][] {
  if (!map) return [];
  const out: [string, T][] = [];
  map.forEach((v, k) => {
    if (v && typeof v === 'object') out.push([k, v as T]);
  });
  const at = (v: unknown): string => String((v as { at?: string }).at ?? '');
  return out.sort((a, b) => at(a[1]).localeCompare(at(b[1])) || a[0].localeCompare(b[0]));
}
