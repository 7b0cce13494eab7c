// Bundles the server (our TypeScript and the workspace packages) into one ES module for `npm start`:
// no TypeScript compiler at start-up or on the hot path. Dependencies stay in node_modules.

import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

await build({
  entryPoints: [path.join(root, 'src/main.ts')],
  outfile: path.join(root, 'dist/main.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [{
    name: 'dependencies-stay-external',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@pamoja/') ? undefined : { path: a.path, external: true }));
    },
  }],
});
