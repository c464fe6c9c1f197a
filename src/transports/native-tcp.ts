/**
 * Plain TCP owned by the Rust module (--tcp-transport native; native/src/net/, bind_tcp.rs):
 * the listening and accepted sockets live in Rust, readiness comes from one epoll descriptor per
 * listener that libuv watches inside Node's own loop, and JavaScript gets one batch per
 * readiness (every connection's bytes in one Buffer, [kind, id, arg] triples in an Int32Array)
 * instead of a 'data' event per socket. A connection has no JavaScript object until its first
 * bytes arrive, and then only a small NativeLink (native-link.ts).
 *
 * Writes of a turn are copied into the listener's write arena and leave in one native call for every connection
 * (writev per socket) when the turn's cork batch is uncorked (cork-batch.ts) or at the end of
 * the tick; what a socket does not take stays in Rust and counts in bufferedAmount until the
 * drain event, so --max-socket-buffer backpressure works as over node:net.
 *
 * Ownership: Rust owns every descriptor and frees a connection's slot; JavaScript holds only ids
 * (slot + generation), forgotten on the close event or when it closes the connection itself.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { NativeBinding, NativeTcpHandle } from '../native/binding.js';
import type { AcceptPacing } from './accept-gate.js';
import { processHeapTrim, type HeapTrim } from './heap-trim.js';
import type { LinkAcceptor } from './link.js';
import { FRAMED, NEED_DRAIN, NativeLink, SILENT_SHIFT, SLOT_MASK, closedLater } from './native-link.js';
import type { BoundServer } from './tcp.js';

// Event kinds (native/src/net/server.rs).
const EV_DATA = 1;
const EV_OPEN = 2;
const EV_CLOSE = 3;
const EV_DRAIN = 4;
const EV_LISTEN_ERROR = 5;
const EV_GATE_PAUSED = 6;
const EV_OPEN_SILENT = 7;
const EV_REFUSED = 8;
const EV_FRAMES = 9;
/**
 * A connection silent this long since accept gets its link anyway, so its protocol's login
 * deadline (counted from the accept, see Link.silentForMs) closes it in that protocol's words.
 * 1 s: the shortest login timeout any protocol accepts.
 */
const ANNOUNCE_SILENT_MS = 1000;
/** Slots the events array must hold (server.rs MAX_BATCH_EVENTS triples). */
const EVENT_SLOTS = 3 * (2 * 256 + 1024 + 8);
/** Slots of a scan record block's header and of each record (codec/scanner.ts SCAN_STRIDE, native scanner.rs). */
const RECORD_STRIDE = 10;
/** Slots the records array must hold (frames.rs RECORD_SLOTS). */
const RECORD_SLOTS = RECORD_STRIDE * (8192 + 2 * 256);
/** Gate pause notices are logged at most this often per listener (as accept-gate.ts). */
const NOTICE_MS = 10_000;

/** How a native listener is opened. */
export interface NativeTcpOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly pacing: AcceptPacing;
  /** SO_REUSEPORT: several processes may listen on the port. */
  readonly reusePort: boolean;
  /** Told of each connection closed at accept because --max-connections was reached. */
  readonly refused: (() => void) | null;
}

// --- the turn's writes: one native call per listener ---------------------------------------

/** Listeners with writes waiting for the end of the tick. */
const flushing: NativeTcpListener[] = [];
let flushScheduled = false;

function scheduleFlush(listener: NativeTcpListener): void {
  flushing.push(listener);
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flushAll);
  }
}

function flushAll(): void {
  flushScheduled = false;
  const listeners = flushing.splice(0, flushing.length);
  for (let i = 0; i < listeners.length; i++) listeners[i]!.flush();
}

/** Bytes of the write arena each listener copies a turn's writes into, at first and at most. */
const WRITE_ARENA_BYTES = 256 * 1024;
const WRITE_ARENA_MAX = 16 << 20;
/** Segments a turn's arena holds at most: a turn flushes once, so each socket gets one writev. */
const WRITE_SEGMENTS_MAX = 1 << 20;
/** Larger writes are handed over on their own (after what was queued), not copied. */
const WRITE_ALONE_BYTES = 64 * 1024;
let writeOut = new Int32Array(2048);

/** A larger copy of `a`, at least `need` long. */
function grow(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  let n = a.length;
  while (n < need) n *= 2;
  const bigger = new Int32Array(n);
  bigger.set(a);
  return bigger;
}

/** One native listener: its handle, its links by slot, its event batches. */
export class NativeTcpListener implements BoundServer {
  readonly handle: NativeTcpHandle;
  readonly port: number;
  /** Live links by slot (the low bits of an id). */
  readonly links: (NativeLink | undefined)[] = [];
  private readonly events = new Int32Array(EVENT_SLOTS);
  private readonly records = new Uint32Array(RECORD_SLOTS);
  // The turn's writes: bytes copied into one arena, [id, length] per segment, the links that wrote.
  private writeArena = Buffer.allocUnsafeSlow(WRITE_ARENA_BYTES);
  private writeAt = 0;
  private writeCount = 0;
  private writeIds = new Int32Array(4096);
  private writeLens = new Int32Array(4096);
  private readonly writers: NativeLink[] = [];
  private flushQueued = false;
  private errorLoggedAt = 0;
  private gatePauses = 0;
  private gateNoticedAt = -Infinity;
  private readonly heapTrim: HeapTrim | null;

  constructor(
    readonly native: NativeBinding,
    private readonly accept: LinkAcceptor,
    private readonly options: NativeTcpOptions,
    ip: string,
  ) {
    const o = options;
    this.handle = native.tcpListen(ip, o.port, o.pacing.backlog, o.reusePort, o.maxConnections, ANNOUNCE_SILENT_MS, o.pacing.ratePerSecond, this.events, this.records, this.onEvents);
    this.port = native.tcpPort(this.handle);
    this.heapTrim = processHeapTrim(native.trimHeap);
  }

  /** Stops accepting and releases the port; open connections live on until they close. */
  close(): void {
    this.native.tcpCloseListener(this.handle);
  }

  /** Queues a link's write for the end of the turn (a copy into the arena: no per-write object). */
  enqueue(link: NativeLink, data: Buffer): void {
    const n = data.length;
    if (n >= WRITE_ALONE_BYTES) {
      this.flush();
      link.queuedBytes = 0;
      this.send(data, Int32Array.of(link.id), Int32Array.of(n), 1, [link]);
      return;
    }
    if (this.writeAt + n > this.writeArena.length || this.writeCount === this.writeIds.length) this.makeRoom(n);
    this.writeArena.set(data, this.writeAt);
    this.writeAt += n;
    this.writeIds[this.writeCount] = link.id;
    this.writeLens[this.writeCount++] = n;
    if (link.queuedBytes === 0) this.writers.push(link);
    link.queuedBytes += n;
    if (!this.flushQueued) {
      this.flushQueued = true;
      scheduleFlush(this);
    }
  }

  /** Grows the arena (a big fan-out turn still leaves in one call), or flushes at the maximum. */
  private makeRoom(n: number): void {
    if (this.writeAt + n > WRITE_ARENA_MAX || this.writeCount === WRITE_SEGMENTS_MAX) {
      this.flush();
      return;
    }
    if (this.writeAt + n > this.writeArena.length) {
      let size = this.writeArena.length;
      while (size < this.writeAt + n) size *= 2;
      const bigger = Buffer.allocUnsafeSlow(size);
      this.writeArena.copy(bigger, 0, 0, this.writeAt);
      this.writeArena = bigger;
    }
    if (this.writeCount === this.writeIds.length) {
      this.writeIds = grow(this.writeIds, 2 * this.writeCount);
      this.writeLens = grow(this.writeLens, 2 * this.writeCount);
    }
  }

  /** Hands every queued write to Rust in one call (writev per socket). */
  flush(): void {
    this.flushQueued = false;
    if (this.writeCount === 0) return;
    const count = this.writeCount;
    const writers = this.writers.splice(0, this.writers.length);
    this.writeCount = 0;
    this.writeAt = 0;
    this.send(this.writeArena, this.writeIds, this.writeLens, count, writers);
  }

  private send(arena: Buffer, ids: Int32Array, lens: Int32Array, count: number, writers: readonly NativeLink[]): void {
    // Rust reports every link left with bytes pending; the others have none now.
    for (let i = 0; i < writers.length; i++) {
      writers[i]!.queuedBytes = 0;
      writers[i]!.nativePending = 0;
    }
    if (writeOut.length < 2 * count) writeOut = grow(writeOut, 2 * count);
    const pairs = this.native.tcpWrite(this.handle, arena, ids, lens, count, writeOut);
    for (let p = 0; p < pairs; p++) {
      const id = writeOut[2 * p]!;
      const left = writeOut[2 * p + 1]!;
      const link = this.links[id & SLOT_MASK];
      if (link === undefined || link.id !== id) continue;
      if (left >= 0) {
        link.nativePending = left;
        continue;
      }
      // The socket failed (EPIPE, ECONNRESET): Rust closed it already.
      link.forget();
      closedLater(link, true);
    }
  }

  private readonly onEvents = (arena: Buffer, count: number): void => {
    const ev = this.events;
    const records = this.records;
    let at = 0;
    let block = 0;
    let opened = 0;
    for (let i = 0; i < count; i++) {
      const kind = ev[3 * i]!;
      const id = ev[3 * i + 1]!;
      const arg = ev[3 * i + 2]!;
      if (kind === EV_FRAMES) {
        const chunk = arena.subarray(at, at + arg);
        at += arg;
        const start = block;
        block += RECORD_STRIDE * (records[start]! + 1);
        const link = this.links[id & SLOT_MASK];
        if (link === undefined || link.id !== id) continue;
        const handler = link.handler!;
        if (handler.onFrames !== undefined) handler.onFrames(chunk, records, start);
        else handler.onData(chunk);
      } else if (kind === EV_DATA || kind === EV_OPEN) {
        const chunk = arena.subarray(at, at + arg);
        at += arg;
        if (kind === EV_OPEN) {
          opened++;
          this.opened(id, chunk, 0);
        } else {
          const link = this.links[id & SLOT_MASK];
          if (link === undefined || link.id !== id) continue;
          // Plain bytes for a framed link: Rust left the rest to the protocol, framing is off.
          link.flags &= ~FRAMED;
          link.handler!.onData(chunk);
        }
      } else if (kind === EV_CLOSE) {
        const link = this.links[id & SLOT_MASK];
        if (link === undefined || link.id !== id) continue;
        const handler = link.handler!;
        link.forget();
        handler.onClose(arg !== 0);
      } else if (kind === EV_DRAIN) {
        const link = this.links[id & SLOT_MASK];
        if (link === undefined || link.id !== id) continue;
        link.nativePending = 0;
        if ((link.flags & NEED_DRAIN) !== 0 && link.queuedBytes === 0) {
          link.flags &= ~NEED_DRAIN;
          link.handler!.onDrain();
        }
      } else if (kind === EV_OPEN_SILENT) {
        opened++;
        this.opened(id, null, arg);
      } else if (kind === EV_REFUSED) this.options.refused?.();
      else if (kind === EV_LISTEN_ERROR) this.listenError(arg);
      else if (kind === EV_GATE_PAUSED) this.gatePaused();
    }
    if (opened > 0) this.heapTrim?.accepts(opened);
  };

  /** First bytes of a connection (or none after ANNOUNCE_SILENT_MS): its link is made now, and the protocol asked to take it. */
  private opened(id: number, chunk: Buffer | null, silentMs: number): void {
    const link = new NativeLink(this, id);
    link.flags = Math.min(silentMs, 0x7fffff) << SILENT_SHIFT;
    this.links[id & SLOT_MASK] = link;
    const handler = this.accept(link);
    if (handler === null) {
      if (link.id >= 0) {
        link.forget();
        this.native.tcpDestroy(this.handle, id);
      }
      return;
    }
    link.handler = handler;
    if (link.id >= 0 && chunk !== null) handler.onData(chunk);
  }

  private listenError(errno: number): void {
    const now = Date.now();
    if (now - this.errorLoggedAt < 1000) return;
    this.errorLoggedAt = now;
    const code = errno === 24 ? 'EMFILE' : errno === 23 ? 'ENFILE' : `errno ${errno}`;
    this.options.pacing.log.warn('listener error (accepting goes on)', {
      transport: 'tcp',
      port: this.port,
      error: `accept: ${code}; accepting again in 1 s`,
    });
  }

  private gatePaused(): void {
    this.gatePauses++;
    const now = performance.now();
    if (now - this.gateNoticedAt < NOTICE_MS) return;
    this.options.pacing.log.warn('accept rate above --max-accept-rate: listener pausing', {
      listener: `tcp:${this.port}`,
      maxAcceptRate: this.options.pacing.ratePerSecond,
      pausesSinceLastNotice: this.gatePauses,
      backlog: 'kept',
    });
    this.gateNoticedAt = now;
    this.gatePauses = 0;
  }
}

/** Opens a native listener; rejects with an error whose code names the cause (EADDRINUSE...). */
export async function listenNativeTcp(native: NativeBinding, options: NativeTcpOptions, accept: LinkAcceptor): Promise<BoundServer> {
  const ip = isIP(options.host) !== 0 ? options.host : (await lookup(options.host)).address;
  try {
    return new NativeTcpListener(native, accept, options, ip);
  } catch (err) {
    const message = (err as Error).message;
    const code = /^(E[A-Z]+):/.exec(message)?.[1];
    throw Object.assign(new Error(message), code === undefined ? {} : { code });
  }
}
