// What a V8 heap snapshot (.heapsnapshot JSON) holds, for the soak: the bytes of live objects, with
// the code V8 has compiled (machine code, bytecode and their tables) counted apart. Compiled code
// grows as V8 optimises more of the server under load; it is not something the server keeps.

import fs from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
}

export function liveBytes(file: string): { objects: number; code: number } {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const typeAt = fields.indexOf('type');
  const sizeAt = fields.indexOf('self_size');
  const code = s.snapshot.meta.node_types[0].indexOf('code');
  const out = { objects: 0, code: 0 };
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    if (s.nodes[i + typeAt] === code) out.code += s.nodes[i + sizeAt]!;
    else out.objects += s.nodes[i + sizeAt]!;
  }
  return out;
}
