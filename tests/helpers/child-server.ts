// Runs the real server as a child process (as `npm start` does), so a test can SIGKILL it.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface ChildServer {
  url: string;
  proc: ChildProcess;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

export function startChild(dataDir: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/sync-server/src/main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!, proc,
          kill: (signal = 'SIGKILL') => new Promise((r) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return r();
            proc.once('exit', () => r());
            proc.kill(signal);
          }),
        });
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}
