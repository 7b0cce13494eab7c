import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStartScript, serverStartCommand } from '../helpers/start-command.js';

// The bench and the fault suites start the server from `npm start`'s own definition; a change to
// that script that they cannot read must fail here, not quietly run them with other settings.
describe('npm start command, as the bench and fault suites read it', () => {
  it('separates the environment, the node flags and the bundle', () => {
    const c = parseStartScript('A_B=1 MALLOC_X_=4194304 node --one --two=2 dist/main.cjs', '/srv/app');
    expect(c).toEqual({ env: { A_B: '1', MALLOC_X_: '4194304' }, nodeFlags: ['--one', '--two=2'], entry: '/srv/app/dist/main.cjs' });
  });

  it('refuses scripts it cannot read faithfully', () => {
    expect(() => parseStartScript('tsx src/main.ts', '/x')).toThrow(/should run node/);
    expect(() => parseStartScript('node --a dist/main.cjs --port 1', '/x')).toThrow(/should end with the bundle/);
  });

  it('reads the real script: the memory settings the README describes, on the bundle', () => {
    const c = serverStartCommand();
    // Each setting is a bullet of the README's "Memory" section, written as the script has it.
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const memory = readme.slice(readme.indexOf('### Memory'), readme.indexOf('\n## ', readme.indexOf('### Memory')));
    const described = [...memory.matchAll(/^- \*\*`([^`]+)`/gm)].map((m) => m[1]!);
    expect(described).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--single-threaded-gc', '--heap-growing-percent=40']));
    for (const flag of described.filter((d) => d.startsWith('--'))) expect(c.nodeFlags).toContain(flag);
    for (const env of described.filter((d) => /^[A-Z_]+=/.test(d))) expect(`${env.split('=')[0]}=${c.env[env.split('=')[0]!]}`).toBe(env);
    expect(c.nodeFlags).toHaveLength(described.filter((d) => d.startsWith('--')).length);
    expect(c.env.MALLOC_MMAP_THRESHOLD_).toBe('4194304');
    expect(path.relative(path.resolve(import.meta.dirname, '../..'), c.entry)).toBe(path.join('apps', 'sync-server', 'dist', 'main.cjs'));
  });
});
