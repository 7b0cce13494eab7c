// Keeps the part of the WAL that SQLite writes next in the operating system's page cache.
//
// A WAL frame is a 24-byte header and one database page, so frames do not line up with the file's
// 4 KB pages. Once a checkpoint lets the WAL start over, SQLite overwrites the file from the top,
// and writing part of a file page that is no longer in memory makes the kernel read that page from
// disk first. The write is a commit on the event loop, and the read queues behind whatever the disk
// is doing: on the benchmark machine, where the kernel (DAMON) pages out file pages it finds little
// used, that read took 20-370 ms, once 1.6 s, while an fsync of the WAL was in flight, and every room
// waited.
//
// The warmer reads ahead of SQLite's write position on libuv's thread pool, so the pages are in
// memory when SQLite gets there. It learns the position from the wal-index header in the `-shm`
// file (mxFrame and the page size; https://sqlite.org/walformat.html), throttled to one look per
// `everyMs`, and only after commits: an idle server does nothing.

import fs from 'node:fs';
import os from 'node:os';
import { asError } from './as-error.js';

/** The wal-index header's version number, for a header we know how to read. */
const WAL_INDEX_VERSION = 3007000;
const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
const CHUNK = 256 * 1024;

export interface WalWarmerOptions {
  /** How far past SQLite's next write to keep read in. */
  aheadBytes: number;
  /** Least time between two looks at the write position. */
  everyMs: number;
  /** Told when a read or a look fails (the warmer then waits for the next look). */
  onError?: (err: Error) => void;
}

export class WalWarmer {
  private walFd: number | null = null;
  private shmFd: number | null = null;
  /** Both copies of the wal-index header. */
  private readonly header = Buffer.alloc(96);
  private buf: Buffer | null = null;
  private lastLook = -Infinity;
  /** The WAL's salt at the last look: SQLite draws a new one each time the WAL starts over. */
  private salt = -1;
  /** Everything from the write position up to here has been read in during this pass over the WAL. */
  private upTo = 0;
  /** Read in, from the top, for the pass after this one (see `beforeRestart`). */
  private nextUpTo = 0;
  private reading = false;
  private closed = false;
  private readonly le = os.endianness() === 'LE';
  readonly stats = { looks: 0, bytesRead: 0, restarts: 0 };

  constructor(private readonly dbPath: string, private readonly options: WalWarmerOptions) {}

  /**
   * Where SQLite writes its next WAL frame (bytes from the start of the file) and the salt of the
   * WAL's current pass, or null while there is no WAL or its index cannot be read consistently.
   */
  position(): { pos: number; salt: number } | null {
    try {
      this.shmFd ??= fs.openSync(`${this.dbPath}-shm`, 'r');
      if (fs.readSync(this.shmFd, this.header, 0, 96, 0) < 96) return null;
    } catch {
      return null; // no WAL yet, or not in WAL mode
    }
    const h = this.header;
    const u32 = (at: number): number => (this.le ? h.readUInt32LE(at) : h.readUInt32BE(at));
    // Not initialised, another format, or caught mid-update (the two copies differ): look again later.
    if (u32(0) !== WAL_INDEX_VERSION || h[12] !== 1 || h.compare(h, 48, 96, 0, 48) !== 0) return null;
    const raw = this.le ? h.readUInt16LE(14) : h.readUInt16BE(14);
    const pageSize = raw === 1 ? 65536 : raw;
    return { pos: WAL_HEADER_BYTES + u32(16) * (pageSize + FRAME_HEADER_BYTES), salt: u32(32) };
  }

  /** After a commit: reads in what lies ahead of the write position, at most once per `everyMs`. */
  nudge(): void {
    if (this.closed || this.reading) return;
    const now = performance.now();
    if (now - this.lastLook < this.options.everyMs) return;
    this.lastLook = now;
    this.stats.looks++;
    const at = this.look();
    if (at === null) return;
    // Past the end of the file SQLite appends: nothing there to read back.
    const to = Math.min(at.size, at.pos + this.options.aheadBytes);
    const from = Math.max(this.upTo, at.pos);
    if (from < to) this.readIn(from, to, false);
  }

  /**
   * A checkpoint is under way, after which the next commit starts the WAL over: reads in the top of
   * the file now, for that commit and the ones after it (a look after a commit would come too late).
   */
  beforeRestart(): void {
    if (this.closed || this.reading) return;
    const at = this.look();
    if (at === null) return;
    const to = Math.min(at.size, this.options.aheadBytes);
    if (to > 0) this.readIn(0, to, true);
  }

  /** The write position and the WAL's size, noting when the WAL has started over since the last look. */
  private look(): { pos: number; size: number } | null {
    const at = this.position();
    if (at === null) return null;
    if (at.salt !== this.salt) {
      if (this.salt !== -1) this.stats.restarts++;
      this.salt = at.salt;
      this.upTo = this.nextUpTo;
      this.nextUpTo = 0;
    }
    try {
      this.walFd ??= fs.openSync(`${this.dbPath}-wal`, 'r');
      return { pos: at.pos, size: fs.fstatSync(this.walFd).size };
    } catch (e) {
      this.options.onError?.(asError(e));
      return null;
    }
  }

  /** Reads [from, to) of the WAL on the thread pool, a chunk at a time, for this pass or the next. */
  private readIn(from: number, to: number, nextPass: boolean): void {
    const fd = this.walFd!;
    const buf = (this.buf ??= Buffer.allocUnsafe(CHUNK));
    this.reading = true;
    fs.read(fd, buf, 0, Math.min(CHUNK, to - from), from, (err, n) => {
      this.reading = false;
      if (this.closed) return this.closeFiles();
      if (err || n === 0) {
        if (err) this.options.onError?.(err);
        return;
      }
      this.stats.bytesRead += n;
      const next = from + n;
      if (nextPass) this.nextUpTo = next;
      else this.upTo = next;
      if (next < to) this.readIn(next, to, nextPass);
    });
  }

  close(): void {
    this.closed = true;
    if (!this.reading) this.closeFiles();
  }

  private closeFiles(): void {
    for (const fd of [this.walFd, this.shmFd]) {
      if (fd === null) continue;
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.walFd = null;
    this.shmFd = null;
  }
}
