// Installs the peer servers into tests/bench/peers on first use, so the root install (and CI) stays lean.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function ensurePeers(dir: string, log: (s: string) => void): void {
  const ok = ['y-websocket/bin/utils.cjs', '@hocuspocus/server/package.json', '@hocuspocus/extension-sqlite/package.json']
    .every((f) => fs.existsSync(path.join(dir, 'node_modules', f)));
  if (ok) return;
  log('installing the peer servers (y-websocket 2, Hocuspocus 3 + SQLite) into tests/bench/peers; sqlite3 may build from source');
  execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
