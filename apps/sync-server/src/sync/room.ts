// A room: one open patient document, its connections and their presence. Incoming messages pass
// the gate's stages in order: decode, check, persist and audit (queued in the open commit batch),
// fan out, then acknowledge once the batch is on disk (see enqueueOut).

import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import { conflictsOf, newId, parseUnitPath, patientIdFromDocName, type Conflict } from '@pamoja/schema';
import { canWriteKind, refusalReason, type Role } from '@pamoja/permissions';
import type { ServerContext } from '../context.js';
import { applyGuarded, type FieldChange, type GateResult } from '../gate/gate.js';
import { deletedItems, insertedItems } from '../gate/changes.js';
import { fieldRows, groupByField, readChanges } from '../gate/fields.js';
import { SYSTEM_ACTOR, type Actor } from '../gate/actor.js';
import type { AuditEntry } from '../audit/audit-log.js';
import { LockTable } from './locks.js';
import { decodeAwarenessUpdate, encodeAwarenessUpdate, stampPresence } from './presence.js';
import { Bucket, type Conn } from './conn.js';
import {
  CLOSE, SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, awarenessBroadcast, awarenessMessage, extBroadcast, extMessage, permissionDenied, syncMessage,
  updateBroadcast, type Broadcast,
} from './protocol.js';

/** Refused deletions put back for one person on one record: 3,000 pieces at once, then 20 a second. */
export const RESTORED_PER_SEC = 20;
export const RESTORED_BURST = 3000;

/**
 * Presence one person's connections may have relayed on one record, in bytes sent out: a stamped
 * update of a few hundred bytes to each of ten people a few times a second is 20-30 KB a second.
 */
export const RELAYED_PRESENCE_PER_SEC = 64 * 1024;
export const RELAYED_PRESENCE_BURST = 1024 * 1024;

/**
 * A connection's first presence message, up to this size stamped, is part of connecting (every stock
 * client announces itself right after it connects) and is not charged to the person's relayed budget.
 * Charged, one login on many devices in one room (a clinic's shared account, a reconnect after the
 * network came back) cost that person the size of the room for every device: 200 devices of one
 * person joining one record had the last 89 cut off. Opening a connection costs an attacker
 * more than this relays: the record itself is sent to it.
 */
export const FREE_ANNOUNCEMENT_BYTES = 2048;

/** Told to someone past their budget of refused pieces on a record, while they are cut off from it. */
export const CUT_OFF_REASON = 'Too many of your changes to this record were refused; nothing more from you is applied to it for a few minutes';

/**
 * Editing sessions a client's state vector may name beyond the record's own: sessions of its own
 * not yet sent (each page load offline starts one).
 */
const EXTRA_SV_ENTRIES = 10_000;

/**
 * New pieces one person may add to one record: 60,000 at once (two full updates; a 20,000-edit
 * offline shift carries about 25,000), then 500 a second, far beyond anyone typing. Every piece stays
 * in the record, deleted or not: an outside test had a nurse add 30,000 pieces and delete them again
 * twenty times in 32 s, and the record grew to 4.5 MB and took 2.9 s to open.
 */
const ITEMS_PER_SEC = 500;
const ITEMS_BURST = 60_000;
export const ITEMS_OVER_REASON = 'You have added more to this record in a short time than the server takes; it is sent again in a moment';

/** Least time between two asks to one connection to send again what the room lacks. */
const RESEND_ASK_GAP_MS = 1000;

/** Answers to a sync step 1 at least this large are kept until the record changes (see stepTwo). */
const KEEP_ANSWERS_FROM_BYTES = 32 * 1024;

/** Presence entries one connection may hold (a tab has one; a few for reconnect overlaps). */
const MAX_PRESENCE_IDS = 8;

/** Fields the patient list shows: only changes to these refresh its row. */
const SUMMARY_FIELDS = /^(demographics|contact|visits\/[^/]+($|\/(registration|workflow|triage)\/))/;

interface Outgoing {
  /** The commit batch that holds this change (or, for refusals, the one open when it was checked). */
  batch: number;
  sent: boolean;
  /** Hold back until the batch is on disk (anything else goes out once committed). */
  diskFirst: boolean;
  /** How many of the sender's update messages this entry answers in its `saved` acknowledgement. */
  acks: number;
  updates: Uint8Array[];
  sender: Conn | null;
  /** Send the updates back to the sender too (it must see its refused parts undone). */
  echo: boolean;
  actor: Actor;
  fields: FieldChange[];
  refusals: { path: string; reason: string; tried: unknown }[] | null;
  malformed: string | null;
}

export class Room {
  private inbox: Uint8Array[] = [];
  private inboxFrom: Conn | null = null;
  private inboxSince = 0;
  private inboxScheduled = false;
  private outbox: Outgoing[] = [];
  private scheduledBatch = -1;
  /** The batch whose commit will send what waits for it (-1: none). */
  private watchedBatch = -1;
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  readonly conns = new Set<Conn>();
  readonly locks = new LockTable();
  readonly patientId: string | null;
  readonly owners: Map<number, string>;
  updatesSinceSnapshot: number;
  /**
   * Why the document in memory can no longer be trusted (Yjs failed part-way through a change, or
   * integrated part of a malformed update), or null. Everyone on it is sent away to
   * reconnect, and the hub opens a fresh copy from disk: the failed change was never stored,
   * everything stored is still there.
   */
  broken: string | null = null;
  unloadTimer: NodeJS.Timeout | null = null;
  readonly openedAt = Date.now();
  private serverSessionStored = false;
  private readonly budgets = new Map<string, { relayed: Bucket; restored: Bucket; items: Bucket }>();
  /**
   * People past their budget of refused pieces, and until when nothing more they send to this record
   * is applied: closing the connection alone let each reconnect bring another update's worth of
   * pieces that stay in the record.
   */
  private readonly cutOff = new Map<string, number>();
  /** Connections that sent changes held back as building on changes the room lacked. */
  private readonly held = new Set<Conn>();
  /** Transactions on the record so far: what a kept answer to a sync step 1 was encoded at. */
  private version = 0;
  private lastAnswer: { sv: Uint8Array; version: number; message: Uint8Array } | null = null;

  constructor(readonly name: string, private readonly ctx: ServerContext) {
    const loaded = ctx.docs.load(name);
    this.doc = loaded.doc;
    this.owners = loaded.owners;
    this.updatesSinceSnapshot = loaded.updatesSinceSnapshot;
    this.patientId = patientIdFromDocName(name);
    // The server writes under a client id nobody else has used in this document.
    const sv = Y.encodeStateVector(this.doc);
    const used = Y.decodeStateVector(sv);
    while (used.has(this.doc.clientID) || this.owners.has(this.doc.clientID)) this.doc.clientID = Math.floor(Math.random() * 0xffffffff);
    this.owners.set(this.doc.clientID, SYSTEM_ACTOR.userId);
    // Not 'update': with a listener there, Yjs encodes every transaction's update.
    this.doc.on('afterTransaction', () => {
      this.version++;
    });
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.awareness.setLocalState(null);
    this.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
      const changed = [...added, ...updated, ...removed];
      const msg = awarenessBroadcast(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
      for (const c of this.conns) c.sendBroadcast(msg);
    });
  }

  join(conn: Conn): void {
    this.drainInbox();
    this.conns.add(conn);
    conn.send(syncMessage(SYNC_STEP1, Y.encodeStateVector(this.doc)));
    const states = [...this.awareness.getStates().keys()];
    if (states.length) conn.send(awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, states)));
    if (conn.ext) conn.send(extMessage({ type: 'locks', locks: this.lockList() }));
    this.ctx.audit.record(conn.actor, [{ action: 'VIEW', outcome: 'ok', patientId: this.patientId, path: this.name }]);
  }

  leave(conn: Conn): void {
    this.drainInbox();
    this.conns.delete(conn);
    this.held.delete(conn);
    if (conn.resendTimer !== null) clearTimeout(conn.resendTimer);
    if (conn.awarenessIds.size) awarenessProtocol.removeAwarenessStates(this.awareness, [...conn.awarenessIds], conn);
    if (this.locks.releaseConnection(conn.id)) this.broadcastLocks();
  }

  /**
   * The answer to a sync step 1 with state vector `sv`. A large one is kept until the record next
   * changes: a client asking again and again for a record it never reads would otherwise cost an
   * encoding of the whole record each time (0.2 ms for 90 KB, 200 times a second per connection).
   */
  private stepTwo(sv: Uint8Array): Uint8Array {
    const kept = this.lastAnswer;
    if (kept !== null && kept.version === this.version && Buffer.compare(kept.sv, sv) === 0) return kept.message;
    const message = syncMessage(SYNC_STEP2, Y.encodeStateAsUpdate(this.doc, sv));
    this.lastAnswer = message.length >= KEEP_ANSWERS_FROM_BYTES ? { sv: sv.slice(), version: this.version, message } : null;
    return message;
  }

  /** Sync protocol: step 1 is answered with what the client lacks; step 2 and updates pass the gate. */
  onSync(conn: Conn, d: decoding.Decoder): void {
    const step = decoding.readVarUint(d);
    const payload = decoding.readVarUint8Array(d);
    if (step === SYNC_STEP1) {
      // Each is answered with what the client lacks, often the whole record: a client asking again
      // and again (with a state vector varied each time, so no answer can be kept) cost the server a
      // whole encoding and a record's worth of memory each. Stock clients ask once per connection.
      if (!conn.takeSyncRequest()) {
        conn.close(CLOSE.rateLimited, 'Too many requests for the record; slow down');
        return;
      }
      this.drainInbox();
      const sv = payload;
      // A state vector names each editing session the client knows: one far longer than the record
      // has sessions is no client's (1.5 million entries held every room for 0.75 s to read).
      const entries = decoding.readVarUint(decoding.createDecoder(sv));
      const most = this.doc.store.clients.size + EXTRA_SV_ENTRIES;
      if (entries > most) throw new MalformedMessage(`a state vector of ${entries} editing sessions, where this record has ${this.doc.store.clients.size}`);
      // Read now, while a bad one can still close this connection; the answer is encoded later.
      Y.decodeStateVector(sv);
      // Answer only once everything already applied is on disk, so no one sees unsaved state; not
      // at all once the connection is gone (closed meanwhile, say for being too far behind).
      this.ctx.queue.afterCommit(() => {
        if (conn.ws.readyState === conn.ws.OPEN) conn.send(this.stepTwo(sv));
      });
      return;
    }
    if (step !== SYNC_STEP2 && step !== SYNC_UPDATE) throw new MalformedMessage(`unknown sync step ${step}`);
    this.receiveUpdate(conn, payload);
  }

  /**
   * Update messages are collected per connection while one network read is being handled, then
   * checked, stored and sent on as one transaction: a tablet catching up, or anyone typing fast,
   * sends many small updates that arrive together. Anything else that touches the room first drains
   * what is waiting, so every message is still handled in the order it arrived.
   */
  receiveUpdate(conn: Conn, update: Uint8Array): void {
    if (this.inboxFrom !== conn) this.drainInbox();
    if (this.inbox.length === 0) this.inboxSince = performance.now();
    this.inboxFrom = conn;
    this.inbox.push(update);
    if (!this.inboxScheduled) {
      this.inboxScheduled = true;
      queueMicrotask(() => {
        const from = this.inboxFrom;
        try {
          this.drainInbox();
        } catch (e) {
          // Same answer as a message that failed while being handled: that connection is closed.
          const reason = e instanceof Error ? e.message : String(e);
          this.ctx.log.warn({ user: from?.actor.username, doc: this.name, reason }, 'malformed message');
          from?.close(CLOSE.malformed, `Malformed message: ${reason}`);
        }
        // A backlog (after the loop was held up) is committed and sent on in steps, not all at the
        // end of the loop's turn.
        this.ctx.queue.flushIfDue();
      });
    }
  }

  /** Checks and applies the waiting updates of one connection. */
  drainInbox(): void {
    this.inboxScheduled = false;
    const conn = this.inboxFrom;
    const batch = this.inbox;
    if (conn === null || batch.length === 0) return;
    this.inbox = [];
    this.inboxFrom = null;
    if (this.broken !== null) return; // its connections are being closed; their clients send it again
    const t0 = performance.now();
    const since = this.inboxSince;
    const queued = this.ctx.queue.pending;
    const actor = conn.actor;
    const claimed: number[] = [];
    let result: GateResult;
    try {
      const until = this.cutOff.size ? this.cutOff.get(actor.userId) : undefined;
      if (until !== undefined && Date.now() >= until) this.cutOff.delete(actor.userId);
      result = applyGuarded(this.doc, batch, conn, {
        refuseAll: until !== undefined && Date.now() < until ? CUT_OFF_REASON : null,
        takeItems: (n) => this.takeItems(conn, n),
        role: actor.role,
        enforce: this.ctx.config.gate,
        lockedBy: (field, unit) => this.locks.heldByOther(field, unit, actor.userId),
        isOwn: (clientId) => this.owners.get(clientId) === actor.userId,
        checkAuthor: (clientId) => {
          const owner = this.owners.get(clientId);
          if (owner === undefined) {
            this.owners.set(clientId, actor.userId);
            claimed.push(clientId);
            return null;
          }
          return owner === actor.userId ? null : 'These changes were made under another person\'s session and cannot be sent as yours';
        },
      });
    } catch (e) {
      for (const id of claimed) this.owners.delete(id);
      // The gate answers every bad update itself; an exception means Yjs failed part-way, and the
      // copy in memory may hold what was never stored, or be stuck in a transaction.
      this.breakDown(e);
      throw e;
    }
    this.afterGate(conn, actor, result, claimed, batch.length);
    this.timeBatch(t0, since, queued);
  }

  /** Marks the room broken and sends everyone on it away to reconnect to a fresh copy from disk. */
  private breakDown(why: unknown): void {
    if (this.broken !== null) return;
    this.broken = why instanceof Error ? why.message : String(why);
    this.ctx.log.error({ doc: this.name, reason: this.broken }, 'the record in memory cannot be trusted; it is reopened from disk');
    for (const c of this.conns) c.close(CLOSE.reload, 'The record is being reopened; reconnecting');
  }

  /**
   * One person's budgets on this record, over all their connections; past either, the connection is
   * closed. `relayed`: bytes of presence and lock lists sent to everyone on the record on their behalf.
   * `restored`: refused deletions put back, each piece written again (see gate/revert.ts), and
   * refused new pieces, deleted and kept as deleted pieces, so one capped update after another (each
   * under the gate's limits) would otherwise still make the record grow and the server work without
   * end.
   */
  private budgetsOf(userId: string): { relayed: Bucket; restored: Bucket; items: Bucket } {
    let b = this.budgets.get(userId);
    if (!b) {
      b = {
        relayed: new Bucket(RELAYED_PRESENCE_PER_SEC, RELAYED_PRESENCE_BURST), restored: new Bucket(RESTORED_PER_SEC, RESTORED_BURST),
        items: new Bucket(ITEMS_PER_SEC, ITEMS_BURST),
      };
      this.budgets.set(userId, b);
    }
    return b;
  }

  /**
   * Charges `n` new pieces to the sender's budget on this record; past it, the update is held (the
   * device keeps it as unsaved) and the device is asked for it again once the budget has room.
   */
  private takeItems(conn: Conn, n: number): string | null {
    const items = this.budgetsOf(conn.actor.userId).items;
    if (items.take(n, Date.now())) return null;
    const wait = Math.min(ITEMS_BURST, n) / ITEMS_PER_SEC * 1000;
    this.ctx.log.warn({ user: conn.actor.username, doc: this.name, pieces: n }, 'new pieces over their budget');
    this.askToResendLater(conn, wait);
    return ITEMS_OVER_REASON;
  }

  /** Metrics hook, cheap when nobody listens: check time now, receipt-to-disk once the batch commits. */
  private timeBatch(t0: number, since: number, queuedBefore: number): void {
    const events = this.ctx.events;
    if (events.listenerCount('sync-timing') === 0) return;
    const gateMs = performance.now() - t0;
    if (this.ctx.queue.pending === queuedBefore) {
      events.emit('sync-timing', { gateMs, commitMs: null });
      return;
    }
    this.ctx.queue.afterCommit((err) => {
      if (!err) events.emit('sync-timing', { gateMs, commitMs: performance.now() - since });
    });
  }

  private afterGate(conn: Conn, actor: Actor, result: GateResult, claimed: number[], messages: number): void {
    const ctx = this.ctx;
    // Every update message is answered (in a `saved` count) once what it changed is on disk, except
    // one held back as building on changes the server lacks: it is not saved, and its sender is
    // asked to send it again (askToResend).
    const acks = conn.ext && !result.held ? messages : 0;
    if (result.held) this.held.add(conn);
    const refused = result.refusals.length > 0 || result.wholeRefusal !== null;
    if (refused) ctx.metrics.updatesRefused += messages;
    const refusals = refused ? (result.refusals.length ? result.refusals : [{ path: '(update)', reason: result.wholeRefusal!, tried: null }]) : null;
    const malformed = result.malformed ? result.wholeRefusal ?? '' : null;
    if (malformed !== null && result.changed) {
      // Yjs integrated part of it before it was found bad: keep none of it, in memory or on disk.
      for (const id of claimed) this.owners.delete(id);
      conn.close(CLOSE.malformed, `Malformed update: ${malformed}`);
      this.breakDown(`a malformed update from ${actor.username} was partly applied (${malformed})`);
      return;
    }
    if (!result.changed) {
      for (const id of claimed) this.owners.delete(id);
      this.enqueueOut({ updates: [], sender: conn, echo: false, actor, fields: [], refusals, malformed, acks, diskFirst: false });
      return;
    }
    // Persist, with the audit rows kept in the last log row until they are written at the end of the
    // turn (AuditLog.defer): they are not part of the commit that comes before sending the change on.
    const entries: AuditEntry[] = result.fields.map((f) => ({
      action: 'UPDATE', outcome: f.outcome, patientId: this.patientId, visitId: f.visitId, path: f.path,
      oldValue: f.oldValue, newValue: f.newValue, detail: f.reason ?? null,
    }));
    const audit = ctx.audit.defer(actor, entries);
    const last = result.updates.length - 1;
    for (let i = 0; i <= last; i++) ctx.docs.append(this.name, result.updates[i]!, i === last ? audit : null);
    let newAuthor = false;
    for (const id of claimed) {
      if (result.authors.has(id)) {
        ctx.docs.recordOwner(this.name, id, actor.userId);
        newAuthor = true;
      } else this.owners.delete(id);
    }
    this.updatesSinceSnapshot += result.updates.length;
    if (this.held.size) this.askToResend(conn);
    ctx.metrics.updatesAccepted += messages;
    if (this.locks.size) this.locks.touch(actor.userId, result.fields.map((f) => f.path));
    if (result.conflicts.length) this.recordConflicts(actor, result);
    if (this.patientId && result.fields.some((f) => SUMMARY_FIELDS.test(f.path))) ctx.patients.refresh(this.patientId, this.doc);
    if (this.updatesSinceSnapshot >= ctx.config.snapshotEvery) this.compact();
    // A new editing session's first changes wait for the disk before anyone else sees them: its
    // ownership must survive a power cut, or someone relaying them could claim the session.
    this.enqueueOut({ updates: result.updates, sender: conn, echo: refused, actor, fields: result.fields, refusals, malformed, acks, diskFirst: newAuthor });
    if (result.restored > 0 && !this.budgetsOf(actor.userId).restored.take(result.restored, Date.now())) {
      // After this change and its refusal have gone out (they were queued first).
      ctx.log.warn({ user: actor.username, doc: this.name }, 'refused changes over their budget');
      this.cutOff.set(actor.userId, Date.now() + (RESTORED_BURST / RESTORED_PER_SEC) * 1000);
      ctx.queue.afterWrite(() => conn.close(CLOSE.rateLimited, 'Too many refused changes; reload the record'));
    }
  }

  /**
   * Everything this room sends about changes goes through one outbox, in order, tied to the commit
   * batch that holds the change. Updates go to the room's other connections once their batch is
   * committed, and a change with someone to send it to commits at once instead of at the end of the
   * loop's turn, so it does not wait for the checks of every other message read in that turn.
   * Committed first, a change that reached a colleague survives a crash of the server: sent before
   * its commit, a server killed in between left colleagues holding a change the server did not
   * have, and a colleague's device sending it back ahead of its author had it judged as the
   * colleague's, its deletions refused and written back, or the colleague's own work refused with
   * it (the relayed parts are now also handled in gate.ts, for the power cut that can still leave
   * this state). A new editing session's first changes wait for the disk too (diskFirst), and so
   * does everything queued behind them. The sender's `saved` (whose `count` says how many of its
   * update messages it covers, accepted, partly refused or refused whole) and the record-changed
   * event wait until the batch is committed and fsynced, so "saved" survives a power cut.
   */
  private enqueueOut(f: Omit<Outgoing, 'batch' | 'sent'>): void {
    // Written out, not spread: V8 gives every `{ ...f, more }` object a hidden class of its own, which
    // costs memory per entry and makes every loop over the outbox megamorphic.
    const entry: Outgoing = {
      batch: this.ctx.queue.batch, sent: false, diskFirst: f.diskFirst, acks: f.acks, updates: f.updates, sender: f.sender,
      echo: f.echo, actor: f.actor, fields: f.fields, refusals: f.refusals, malformed: f.malformed,
    };
    this.outbox.push(entry);
    const b = entry.batch;
    if (this.scheduledBatch !== b) {
      this.scheduledBatch = b;
      this.ctx.queue.afterCommit((err) => this.settle(b, err));
    }
    if (this.watchedBatch !== b) {
      this.watchedBatch = b;
      // At once when nothing is queued (a refusal that changed nothing).
      this.ctx.queue.afterWrite((err) => {
        if (this.watchedBatch === b) this.watchedBatch = -1;
        if (!err) this.send(b, -1);
      });
    }
    // Inside another commit's callbacks or a transaction this cannot commit: the batch then commits
    // at the end of the turn, as for a change nobody else is there to get.
    if (f.updates.length > 0 && (f.echo || this.conns.size > 1)) this.ctx.queue.commitOpenBatch();
  }

  /**
   * Sends, in order, what has not gone out yet, up to the first change whose batch is not committed,
   * or not on disk for one that waits for the disk (batches up to `committedUpTo` are committed, up
   * to `durableUpTo` on disk too).
   */
  private send(committedUpTo: number, durableUpTo: number): void {
    const ready: Outgoing[] = [];
    for (const e of this.outbox) {
      if (e.sent) continue;
      if (e.batch > committedUpTo || (e.diskFirst && e.batch > durableUpTo)) break;
      ready.push(e);
    }
    if (ready.length === 0) return;
    // Each update is framed once for everyone; a connection with several to get has them written
    // in one go. Usually one update goes to each of a few connections.
    const msgs: Broadcast[][] = [];
    let total = 0;
    for (const e of ready) {
      const m: Broadcast[] = [];
      for (const u of e.updates) m.push(updateBroadcast(u));
      msgs.push(m);
      total += m.length;
    }
    for (const c of this.conns) {
      if (total > 1) c.cork();
      for (let i = 0; i < ready.length; i++) {
        const e = ready[i]!;
        if (c === e.sender && !e.echo) continue; // the sender has its own change already
        for (const m of msgs[i]!) c.sendBroadcast(m);
      }
      if (total > 1) c.uncork();
    }
    for (const e of ready) {
      e.sent = true;
      const conn = e.sender;
      if (!conn) continue;
      if (e.refusals) this.tellRefused(conn, e.refusals);
      if (e.malformed !== null) conn.close(CLOSE.malformed, `Malformed update: ${e.malformed}`);
    }
  }

  /**
   * Someone's change was stored, maybe the one that changes held back from others build on (their
   * author's device back): each connection with changes held back is asked, with a sync step 1, to
   * send again whatever the room lacks (stock clients answer with a sync step 2, through the gate
   * again). Once committed, and at most once a second per connection: an answer still held back
   * waits for the next change stored.
   */
  private askToResend(from: Conn): void {
    for (const c of this.held) {
      if (c !== from) this.askToResendLater(c, 0);
    }
  }

  private askToResendLater(c: Conn, waitMs: number): void {
    if (c.resendTimer !== null) return;
    c.resendTimer = setTimeout(() => {
      c.resendTimer = null;
      if (!this.held.delete(c) || !this.conns.has(c)) return;
      c.lastResendAsk = Date.now();
      this.drainInbox();
      this.ctx.queue.afterWrite(() => c.send(syncMessage(SYNC_STEP1, Y.encodeStateVector(this.doc))));
    }, Math.max(waitMs, c.lastResendAsk + RESEND_ASK_GAP_MS - Date.now()));
    c.resendTimer.unref();
  }

  /** Batch `upTo` is on disk (or failed): acknowledge and tell the workflow. */
  private settle(upTo: number, err: Error | null): void {
    if (this.scheduledBatch === upTo) this.scheduledBatch = -1;
    if (!err) this.send(upTo, upTo);
    let n = 0;
    while (n < this.outbox.length && this.outbox[n]!.batch <= upTo) n++;
    const done = this.outbox.splice(0, n);
    if (err) {
      // Not on disk: tell no one it is saved; the senders' clients, and anyone it was sent on to
      // already, send it again on reconnect.
      for (const e of done) e.sender?.close(1011, 'The server could not save your change; reconnecting');
      // The document in memory is ahead of the disk by that batch, and later updates may build on
      // it: write all of it again (a snapshot, and who owns each session) in the next batch, so
      // nothing acknowledged later depends on a gap in the log.
      this.compact();
      for (const [clientId, userId] of this.owners) this.ctx.docs.recordOwner(this.name, clientId, userId);
      // Changes held back for the disk never went out, and the record in memory keeps them: the
      // room gets them once that copy is on disk (sent again, they would change nothing here, and
      // would never reach the others).
      for (const e of done) {
        if (e.sent || e.updates.length === 0) continue;
        this.enqueueOut({
          updates: e.updates, sender: null, echo: true, actor: e.actor, fields: e.fields, refusals: null, malformed: null, acks: 0, diskFirst: true,
        });
      }
      return;
    }
    const acks = new Map<Conn, number>();
    for (const e of done) {
      if (e.fields.length) this.ctx.events.emit('record-changed', { docName: this.name, patientId: this.patientId, actor: e.actor, fields: e.fields });
      if (e.sender && e.acks) acks.set(e.sender, (acks.get(e.sender) ?? 0) + e.acks);
    }
    // Usually every sender is answered for one message: they share one encoded acknowledgement.
    const at = new Date().toISOString();
    let ack: Uint8Array | null = null;
    let ackCount = 0;
    for (const [c, count] of acks) {
      if (ack === null || count !== ackCount) {
        ack = extMessage({ type: 'saved', at, count });
        ackCount = count;
      }
      c.send(ack);
    }
  }

  private tellRefused(conn: Conn, refusals: { path: string; reason: string; tried: unknown }[]): void {
    const unique = [...new Set(refusals.map((r) => r.reason))];
    conn.send(permissionDenied(unique.join('\n')));
    if (conn.ext) conn.send(extMessage({ type: 'refused', refusals }));
  }

  /** Writes found conflicts into the record's conflict list, as the server. */
  private recordConflicts(actor: Actor, result: GateResult): void {
    const now = new Date().toISOString();
    this.writeAsServer(() => {
      const map = conflictsOf(this.doc);
      for (const c of result.conflicts) {
        const theirUserId = this.owners.get(c.theirs.clientId) ?? null;
        const theirUser = theirUserId ? this.ctx.users.byId(theirUserId) : null;
        const conflict: Conflict = {
          id: newId(), path: c.path, detectedAt: now,
          values: [
            { value: c.theirs.value, userId: theirUserId, username: theirUser?.username ?? null, name: theirUser?.name ?? null, at: now },
            { value: c.ours.value, userId: actor.userId, username: actor.username, name: actor.name, at: now },
          ],
        };
        map.set(conflict.id, conflict);
      }
    });
  }

  /** Applies a server-side change (conflict bookkeeping, resolutions), persisted and fanned out like any other. */
  writeAsServer(fn: () => void, actor: Actor = SYSTEM_ACTOR, audit: AuditEntry[] = []): void {
    this.drainInbox();
    let update: Uint8Array | null = null;
    const grab = (u: Uint8Array): void => {
      update = u;
    };
    let rows: FieldChange[] = [];
    this.doc.on('update', grab);
    try {
      this.doc.transact((tr) => {
        fn();
        rows = serverFieldRows(tr);
      }, SYSTEM_ACTOR);
    } catch (e) {
      // Changed in memory but not stored, or stuck: the copy in memory no longer matches the disk.
      if (update !== null || stuckInTransaction(this.doc)) this.breakDown(e);
      throw e;
    } finally {
      this.doc.off('update', grab);
    }
    if (!update) return;
    const u: Uint8Array = update;
    // The server's session is stored as its own with its first change, in the same batch: after the
    // record is next opened, nobody may claim it (and be credited with what the server wrote).
    if (!this.serverSessionStored) {
      this.ctx.docs.recordOwner(this.name, this.doc.clientID, SYSTEM_ACTOR.userId);
      this.serverSessionStored = true;
    }
    this.ctx.docs.append(this.name, u);
    this.updatesSinceSnapshot++;
    this.ctx.audit.record(actor, [...audit, ...rows.map((f): AuditEntry => ({
      action: 'UPDATE', outcome: 'applied', patientId: this.patientId, visitId: f.visitId, path: f.path,
      oldValue: f.oldValue, newValue: f.newValue,
    }))]);
    if (this.patientId) this.ctx.patients.refresh(this.patientId, this.doc);
    // Workflow and projections follow server-side writes (registration, conflict picks, hand-offs)
    // the same way they follow anyone's edits.
    this.enqueueOut({ updates: [u], sender: null, echo: true, actor, fields: rows, refusals: null, malformed: null, acks: 0, diskFirst: true });
  }

  compact(): void {
    // A broken room's memory holds what failed; the stored log stays what the next copy opens.
    if (this.broken !== null) return;
    this.drainInbox();
    this.ctx.docs.compact(this.name, this.doc);
    this.updatesSinceSnapshot = 0;
  }

  /** Presence: only for the sender's own client ids, stamped with the sender's identity. */
  onAwareness(conn: Conn, update: Uint8Array): void {
    this.drainInbox();
    const entries = decodeAwarenessUpdate(update);
    const kept = [];
    const denied: number[] = [];
    for (const e of entries) {
      // Stock y-websocket clients echo every presence change they receive. Anything not newer than
      // what the server already holds changes nothing: drop it quietly, claim nothing.
      const known = this.awareness.meta.get(e.clientId);
      if (known && (e.clock < known.clock || (e.clock === known.clock && !(e.state === null && this.awareness.states.has(e.clientId))))) continue;
      // Leaving, for a presence nobody has here: nothing to remove, and nothing to keep a record of.
      if (e.state === null && !this.awareness.states.has(e.clientId)) continue;
      const holder = [...this.conns].find((c) => c !== conn && c.awarenessIds.has(e.clientId));
      const owner = this.owners.get(e.clientId);
      const tooMany = !conn.awarenessIds.has(e.clientId) && conn.awarenessIds.size >= MAX_PRESENCE_IDS;
      if (holder || tooMany || (owner !== undefined && owner !== conn.actor.userId)) {
        denied.push(e.clientId);
        continue;
      }
      if (e.state !== null) {
        conn.awarenessIds.add(e.clientId);
        // A client announces its Yjs client id in its presence before it edits: the session is
        // claimed before its first change, which goes out once that batch (or a later one holding
        // it) is committed, never before the claim is on record.
        if (owner === undefined && Y.getState(this.doc.store, e.clientId) === 0) {
          this.owners.set(e.clientId, conn.actor.userId);
          this.ctx.docs.recordOwner(this.name, e.clientId, conn.actor.userId);
        }
      }
      kept.push({ clientId: e.clientId, clock: e.clock, state: e.state === null ? null : stampPresence(e.state, conn.actor) });
    }
    if (kept.length) {
      const update = encodeAwarenessUpdate(kept);
      // Charged for what goes out, stamped, to everyone on the record, over all of this person's
      // connections: tiny entries are relayed many times larger, and a second tab is no second budget.
      const free = !conn.announced && update.length <= FREE_ANNOUNCEMENT_BYTES;
      conn.announced = true;
      if (!free && !this.budgetsOf(conn.actor.userId).relayed.take(update.length * this.conns.size, Date.now())) {
        this.ctx.log.warn({ user: conn.actor.username, doc: this.name }, 'presence over its budget on the record');
        conn.close(CLOSE.rateLimited, 'Too much presence data; slow down');
        return;
      }
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, conn);
    }
    if (denied.length) conn.send(permissionDenied('You can only set your own presence'));
  }

  onQueryAwareness(conn: Conn): void {
    this.drainInbox();
    const ids = [...this.awareness.getStates().keys()];
    conn.send(awarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)));
  }

  /** Extension messages: field locks. */
  onExt(conn: Conn, body: Record<string, unknown>): void {
    this.drainInbox();
    const type = body.type;
    const path = typeof body.path === 'string' ? body.path.slice(0, 300) : '';
    if (type === 'lock') {
      const bad = this.lockRefusal(path, conn.actor.role);
      const r = bad !== null ? { ok: false as const, reason: bad } : this.locks.acquire({
        path, userId: conn.actor.userId, name: conn.actor.name, role: conn.actor.role, connId: conn.id,
      });
      conn.send(extMessage({ type: 'lock-result', path, ok: r.ok, reason: r.ok ? undefined : r.reason }));
      if (r.ok) this.broadcastLocksFor(conn);
    } else if (type === 'unlock') {
      if (this.locks.release(path, conn.actor.userId)) this.broadcastLocksFor(conn);
      else conn.send(extMessage({ type: 'error', message: `You hold no lock on ${path}` }));
    } else {
      conn.send(extMessage({ type: 'error', message: `Unknown request ${String(type)}` }));
    }
  }

  /**
   * Why `role` may not lock `path` here, or null. A lock holds everyone else off the field, so only
   * someone who may write it may take one, and only on a visit the record has.
   */
  private lockRefusal(path: string, role: Role): string | null {
    const segs = path.split('/');
    const unit = parseUnitPath(path) ?? parseUnitPath(segs.slice(0, -1).join('/'));
    if (!unit || !unit.visitId) return `${path} cannot be locked`;
    if (!this.doc.getMap('visits').has(unit.visitId)) return 'This record has no such visit';
    if (!canWriteKind(role, unit.kind)) return refusalReason(role, unit.kind);
    return null;
  }

  lockList(): { path: string; userId: string; name: string; role: string; since: number }[] {
    return this.locks.list().map(({ path, userId, name, role, since }) => ({ path, userId, name, role, since }));
  }

  /** Sends everyone the lock list; returns the bytes sent. */
  broadcastLocks(): number {
    const msg = extBroadcast({ type: 'locks', locks: this.lockList() });
    const bytes = msg.message.length;
    let sent = 0;
    for (const c of this.conns) if (c.ext) (c.sendBroadcast(msg), (sent += bytes));
    return sent;
  }

  /**
   * A lock taken or given back goes to everyone as the whole list: charged, like presence, to the
   * person who asked, so taking and releasing in a loop cannot flood the room.
   */
  private broadcastLocksFor(conn: Conn): void {
    if (this.budgetsOf(conn.actor.userId).relayed.take(this.broadcastLocks(), Date.now())) return;
    this.ctx.log.warn({ user: conn.actor.username, doc: this.name }, 'lock requests over the presence budget');
    conn.close(CLOSE.rateLimited, 'Too many lock requests; slow down');
  }

  destroy(): void {
    this.drainInbox();
    this.awareness.destroy();
    this.doc.destroy();
  }
}

export class MalformedMessage extends Error {}

/**
 * An exception inside Yjs's end-of-transaction work leaves the document in a transaction that never
 * ends: every later change then integrates without emitting updates or running observers.
 */
function stuckInTransaction(doc: Y.Doc): boolean {
  return doc._transaction !== null || doc._transactionCleanups.length > 0;
}

/** Field rows for a change the server makes itself, read the same way the gate reads a client's. */
function serverFieldRows(tr: Y.Transaction): FieldChange[] {
  const inserted = insertedItems(tr);
  const deleted = deletedItems(tr);
  if (inserted.length === 0 && deleted.length === 0) return [];
  const { changes, previous } = readChanges(tr, inserted, deleted);
  const out = { fields: [] as FieldChange[], refusals: [], conflicts: [] };
  fieldRows({ tr, changes, previous }, groupByField(changes), new Map(), out);
  // Creating a visit's empty sections is structure, not a value anyone entered.
  return out.fields.filter((f) => !(typeof f.newValue === 'string' && /^\(Y\w+\)$/.test(f.newValue)));
}
