// How big a text section (the assessment) or the notes is, counted as MAX_TEXT_LENGTH counts it:
// characters, and the names and values of formatting and attributes, which the text's length leaves out.

import * as Y from 'yjs';
import { jsonText } from './json.js';

const valueSize = (v: unknown): number => (typeof v === 'string' ? v.length : jsonText(v).length);

/** Size of one live item's content; a nested type is pushed onto `types` to be counted in turn. */
function contentSize(c: Y.Item['content'], types: Y.AbstractType<any>[]): number {
  if (c instanceof Y.ContentString) return c.str.length;
  if (c instanceof Y.ContentFormat) return c.key.length + (c.value === null ? 0 : valueSize(c.value));
  if (c instanceof Y.ContentType) {
    types.push(c.type);
    return 0;
  }
  if (c instanceof Y.ContentAny || c instanceof Y.ContentJSON) {
    let n = 0;
    for (const v of c.getContent()) n += valueSize(v);
    return n;
  }
  if (c instanceof Y.ContentEmbed) return valueSize(c.embed);
  if (c instanceof Y.ContentBinary) return c.content.length;
  return 0; // deleted content, subdocuments
}

/**
 * The size of `type` and everything inside it, in characters; stops counting once past `cap`.
 * Without recursion: notes may nest elements a hundred deep.
 */
export function textSize(type: Y.AbstractType<any>, cap = Infinity): number {
  let n = 0;
  const types: Y.AbstractType<any>[] = [type];
  while (types.length && n <= cap) {
    const t = types.pop()!;
    if (t instanceof Y.XmlElement) n += t.nodeName.length;
    if (t._map.size > 0) for (const [key, item] of t._map) if (!item.deleted) n += key.length + contentSize(item.content, types);
    for (let item = t._start; item !== null && n <= cap; item = item.right) {
      if (!item.deleted) n += contentSize(item.content, types);
    }
  }
  return n;
}
