// A plain textarea bound to a Y.Text: each edit is applied as the smallest insert/delete, so two people
// typing in the same text merge instead of overwriting each other.
import { useLayoutEffect, useRef, type ChangeEvent } from 'react';
import * as Y from 'yjs';
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
  // Where my cursor is, anchored to the characters around it rather than to a count: when someone
  // else's edit lands before it, the text re-renders and the cursor stays where I was typing.
  const caret = useRef<{ start: Y.RelativePosition; end: Y.RelativePosition } | null>(null);
  const remember = (): void => {
    const el = ref.current;
    if (!p.text || !el || document.activeElement !== el) return;
    caret.current = {
      start: Y.createRelativePositionFromTypeIndex(p.text, el.selectionStart),
      end: Y.createRelativePositionFromTypeIndex(p.text, el.selectionEnd),
    };
  };
  useLayoutEffect(() => {
    const el = ref.current;
    const doc = p.text?.doc;
    if (!el || !doc || !caret.current || document.activeElement !== el) return;
    const start = Y.createAbsolutePositionFromRelativePosition(caret.current.start, doc);
    const end = Y.createAbsolutePositionFromRelativePosition(caret.current.end, doc);
    if (start && end && (el.selectionStart !== start.index || el.selectionEnd !== end.index)) el.setSelectionRange(start.index, end.index);
  }, [value, p.text]);
  const onChange = (e: ChangeEvent<HTMLTextAreaElement>): void => {
    if (!p.text) return;
    conn.typing(p.section, undefined, p.visitId);
    applyDiff(p.text, e.target.value);
    remember();
  };
  const id = `t-${p.visitId}-${p.section}`;
  return (
    <div className="field wide">
      <label htmlFor={id}>{p.label}</label>
      <textarea id={id} ref={ref} rows={4} value={value} disabled={!p.editable} data-field={p.section}
        onFocus={() => (conn.focus(p.section, undefined, p.visitId), remember())} onBlur={() => conn.blur()} onChange={onChange}
        onSelect={remember} onKeyUp={remember} onMouseUp={remember} />
    </div>
  );
}
