// A real Pamoja server as a child process on a fixed loopback port, so faults can kill it (SIGKILL)
// and restart it on the same SQLite file while clients keep reconnecting to the same address.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../helpers/net.js';
import { serverBundle } from './bundle.js';
import { serverStartCommand } from '../../helpers/start-command.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
/** The node flags and environment of `npm start`, used on this run's copy of the same bundle. */
const START = serverStartCommand();

export class ServerProc {
  proc: ChildProcess | null = null;
  readonly base: string;
  stderr = '';
  starts = 0;

  private constructor(
    readonly port: number, readonly dataDir: string, private readonly env: Record<string, string>, private readonly nodeFlags: string[],
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  /** `nodeFlags` go before `npm start`'s own (the soak adds the bench's full-collection-on-signal preload). */
  static async create(env: Record<string, string> = {}, nodeFlags: string[] = []): Promise<ServerProc> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pamoja-fault-'));
    const s = new ServerProc(await freePort(), dir, env, nodeFlags);
    await s.start();
    return s;
  }

  get alive(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    const proc = spawn(process.execPath, [...this.nodeFlags, ...START.nodeFlags, await serverBundle()], {
      cwd: ROOT,
      env: {
        ...process.env, ...START.env, PORT: String(this.port), HOST: '127.0.0.1', DATA_DIR: this.dataDir, LOG_LEVEL: 'error',
        UNLOAD_DELAY_MS: '200', ...this.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-8000)));
    this.proc = proc;
    this.starts++;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`server exited while starting: ${this.stderr}`);
      try {
        if ((await fetch(`${this.base}/healthz`)).status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('server did not start within 60 s');
  }

  /** SIGKILL: no shutdown hook runs, the queue's uncommitted batch is lost as in a power cut of the process. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || !this.alive) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  async login(username: string): Promise<string> {
    const r = await fetch(`${this.base}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'demo' }),
    });
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status}`);
    return ((await r.json()) as { token: string }).token;
  }

  async newPatient(receptionToken: string, n: number): Promise<{ id: string; visitId: string }> {
    const r = await fetch(`${this.base}/api/patients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${receptionToken}` },
      body: JSON.stringify({ firstName: 'Fault', lastName: `Patient${n}`, sex: 'male', dateOfBirth: '1980-02-02', phone: `+2547110${String(n).padStart(5, '0')}` }),
    });
    if (r.status !== 201) throw new Error(`register patient: ${r.status} ${await r.text()}`);
    return (await r.json()) as { id: string; visitId: string };
  }
}
