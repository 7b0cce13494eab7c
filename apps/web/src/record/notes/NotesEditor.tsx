// Consultation notes: a Tiptap editor bound to the visit's `notes` Y.XmlFragment, so several people can
// type in one note at once; everyone's caret is drawn with their name (from server-stamped presence).
import { useEffect } from 'react';
import type * as Y from 'yjs';
import { EditorContent, useEditor, type Extensions } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { useRecord } from '../RecordContext.js';

/** A caret label built from text nodes only: a name can never become markup. */
function renderCaret(user: Record<string, unknown>): HTMLElement {
  const color = typeof user.color === 'string' && /^#[0-9a-f]{3,8}$/i.test(user.color) ? user.color : '#555';
  const caret = document.createElement('span');
  caret.className = 'collaboration-carets__caret';
  caret.style.borderColor = color;
  const label = document.createElement('div');
  label.className = 'collaboration-carets__label';
  label.style.backgroundColor = color;
  label.textContent = String(user.name ?? 'Someone');
  caret.append(label);
  return caret;
}

export function NotesEditor({ fragment, visitId, editable }: { fragment: Y.XmlFragment; visitId: string; editable: boolean }) {
  const { conn } = useRecord();
  const editor = useEditor({
    editable,
    extensions: [
      // Yjs keeps the history; ProseMirror's own undo would fight it. (The cast: npm nests a second
      // copy of @tiptap/core under starter-kit; vite.config.ts dedupes it so one copy runs.)
      StarterKit.configure({ undoRedo: false }) as unknown as Extensions[number],
      Collaboration.configure({ fragment }),
      CollaborationCaret.configure({
        provider: conn.provider,
        user: { name: conn.me.name, color: conn.me.color },
        render: renderCaret,
      }),
    ],
    editorProps: {
      attributes: { class: 'notes-editor', 'aria-label': 'Consultation notes', 'data-field': 'notes' },
      handleDOMEvents: {
        keydown: () => {
          conn.typing('notes', undefined, visitId);
          return false;
        },
      },
    },
    onFocus: () => conn.focus('notes', undefined, visitId),
    onBlur: () => conn.blur(),
  }, [fragment, conn]);

  useEffect(() => {
    editor?.setEditable(editable);
  }, [editor, editable]);

  return <EditorContent editor={editor} className={`notes${editable ? '' : ' readonly'}`} />;
}
