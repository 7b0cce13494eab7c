// Builds the web app once before the suite when browser tests need it and it is missing or stale.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  const dist = path.join(root, 'apps/web/dist/index.html');
  const src = path.join(root, 'apps/web/index.html');
  if (!fs.existsSync(src)) return;
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .reduce((m, e) => Math.max(m, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs), 0);
  const stale = !fs.existsSync(dist) ||
    Math.max(newest(path.join(root, 'apps/web/src')), newest(path.join(root, 'packages'))) > fs.statSync(dist).mtimeMs;
  if (!stale) return;
  try {
    // NODE_ENV=production: vitest sets it to "test", which would give a development build of React.
    execSync('npm run build --workspace @pamoja/web', { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  } catch {
    // Only the browser tests need the build; they fail on their own, with this message above them.
    console.error('Building apps/web failed; browser tests will fail. Other suites run on.');
  }
}
