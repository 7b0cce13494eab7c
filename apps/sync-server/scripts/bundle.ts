// Bundles the server (our TypeScript and the workspace packages) into one ES module; dependencies
// stay in node_modules. Used by `npm start` (via build.ts) and by the fault suites.

import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

export async function bundleServer(outfile: string): Promise<void> {
  await build({
    entryPoints: [path.join(root, 'src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // Stack traces need only file and line; the sources are on disk. Copying them into the map made
    // --enable-source-maps (npm start) hold ~3 MB more in memory.
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [{
      name: 'dependencies-stay-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@pamoja/') ? undefined : { path: a.path, external: true }));
      },
    }],
  });
}
