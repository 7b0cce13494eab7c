// Command-line flags of `npm run bench`. The defaults are the target scale (2,000 connections
// in 500 rooms at 500 updates/s; 20 writers of 5,000 updates), so `npm run bench` alone checks its
// targets; a whole run takes about 11 minutes on a 2-core box.

import { parseArgs } from 'node:util';

export interface BenchArgs {
  conns: number;
  rooms: number;
  rate: number;
  duration: number;
  repeat: number;
  hotConns: number;
  hotRate: number;
  writers: number;
  updates: number;
  bundleEdits: number;
  largeEdits: number;
  idleConns: number;
  docs: number;
  workers: number;
  maxSteal: number;
  only: string[];
  scenarios: string[];
  out: string;
}

export const HELP = `npm run bench -- [flags]
  --conns N         connections in the many-rooms fan-out run (default 2000, the issue's scale)
  --rooms N         rooms they spread over (default 500)
  --rate N          updates/s sent in that run, all writers together (default 500)
  --duration S      seconds per fan-out run (default 10)
  --repeat N        fan-out runs per scenario and server, interleaved across servers; the table shows
                    the median (default 3; each run's figures are logged and kept in the JSON)
  --hot-conns N     connections in the one hot room (default 50)
  --hot-rate N      updates/s in the hot room (default 100)
  --writers N       ingest writers, one room each (default 20)
  --updates N       small map updates each ingest writer blasts (default 5000)
  --bundle-edits N  edits in the offline tablet's bundle (default 2000)
  --large-edits N   edits that make the large record (default 20000)
  --idle-conns N    idle connections for the per-connection memory figure (default 500)
  --docs N          open documents for the per-document memory figure (default 1000)
  --workers N       load processes (default 2, all on the load core)
  --max-steal P     a round of fan-out runs in which the hypervisor gave more than P% of the machine's
                    CPU time to other guests during any run (steal, /proc/stat) is run again, up to
                    twice; each server's first quiet try counts, else its try with the least steal;
                    the others are logged and kept in the JSON (default 3; 100 counts every first try)
  --only a,b        targets whose name contains one of these (pamoja, gate=off, y-websocket, hocuspocus)
  --scenarios a,b   run only these: memory, many, hot, ingest, bundle, large, start (default all)
  --out FILE        JSON results (default .bench-results/latest.json)`;

export function parseBenchArgs(argv: string[]): BenchArgs | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      conns: { type: 'string', default: '2000' },
      rooms: { type: 'string', default: '500' },
      rate: { type: 'string', default: '500' },
      duration: { type: 'string', default: '10' },
      repeat: { type: 'string', default: '3' },
      'hot-conns': { type: 'string', default: '50' },
      'hot-rate': { type: 'string', default: '100' },
      writers: { type: 'string', default: '20' },
      updates: { type: 'string', default: '5000' },
      'bundle-edits': { type: 'string', default: '2000' },
      'large-edits': { type: 'string', default: '20000' },
      'idle-conns': { type: 'string', default: '500' },
      docs: { type: 'string', default: '1000' },
      workers: { type: 'string', default: '2' },
      'max-steal': { type: 'string', default: '3' },
      only: { type: 'string', default: '' },
      scenarios: { type: 'string', default: 'memory,many,hot,ingest,bundle,large,start' },
      out: { type: 'string', default: '.bench-results/latest.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const n = (k: keyof typeof values): number => {
    const v = Number(values[k]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${String(k)} must be a positive number`);
    return v;
  };
  return {
    conns: n('conns'), rooms: n('rooms'), rate: n('rate'), duration: n('duration'), repeat: n('repeat'),
    hotConns: n('hot-conns'), hotRate: n('hot-rate'), writers: n('writers'), updates: n('updates'),
    bundleEdits: n('bundle-edits'), largeEdits: n('large-edits'), idleConns: n('idle-conns'), docs: n('docs'),
    workers: n('workers'), maxSteal: n('max-steal'),
    only: values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : [],
    scenarios: values.scenarios.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    out: values.out,
  };
}
