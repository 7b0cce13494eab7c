// A plain textarea bound to a Y.Text: each edit is applied as the smallest insert/delete, so two people
// typing in the same text merge instead of overwriting each other.
import { useRef, type ChangeEvent } from 'react';
import type * as Y from 'yjs';
import { useRecord } from '../RecordContext.js';
import { useYDeep } from '../hooks/useY.js';

export function applyDiff(text: Y.Text, next: string): void {
  const prev = text.toString();
  if (prev === next) return;
  let start = 0;
  while (start < prev.length && start < next.length && prev[start] === next[start]) start++;
  let endPrev = prev.length;
  let endNext = next.length;
  while (endPrev > start && endNext > start && prev[endPrev - 1] === next[endNext - 1]) (endPrev--, endNext--);
  text.doc!.transact(() => {
    if (endPrev > start) text.delete(start, endPrev - start);
    if (endNext > start) text.insert(start, next.slice(start, endNext));
  });
}

export function TextBinding(p: { text: Y.Text | undefined; label: string; editable: boolean; section: string; visitId: string }) {
  const { conn } = useRecord();
  useYDeep(p.text);
  const ref = useRef<HTMLTextAreaElement>(null);
  const value = p.text?.toString() ?? '';
  const onChange = (e: ChangeEvent<HTMLTextAreaElement>): void => {
    if (!p.text) return;
    conn.typing(p.section, undefined, p.visitId);
    applyDiff(p.text, e.target.value);
  };
  const id = `t-${p.visitId}-${p.section}`;
  return (
    <div className="field wide">
      <label htmlFor={id}>{p.label}</label>
      <textarea id={id} ref={ref} rows={4} value={value} disabled={!p.editable} data-field={p.section}
        onFocus={() => conn.focus(p.section, undefined, p.visitId)} onBlur={() => conn.blur()} onChange={onChange} />
    </div>
  );
}
