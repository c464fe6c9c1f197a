/**
 * Paces how fast one node:net (or node:tls) listener accepts connections (--max-accept-rate).
 *
 * libuv accepts every connection waiting in the backlog in one go, and Node builds a socket
 * for each before any code of ours can refuse it: a storm of thousands of connections a second
 * costs the established clients their latency even when each new one is closed at once.
 * Node has no way to stop accepting, so the gate stops *polling*: when the token bucket is
 * empty it keeps a duplicate of the listening descriptor, closes the server's handle, and
 * listens again on the duplicate once the bucket has refilled. Meanwhile the kernel keeps the
 * listening socket and queues new connections in its backlog (--listen-backlog), then drops
 * further SYNs, which clients retry: the behaviour of HAProxy's `rate-limit sessions`.
 * Without the native module (no dup) the server closes and re-binds its port instead, so
 * connections arriving during a pause are refused (RST) rather than queued.
 */
import type { Server } from 'node:net';
import type { Logger } from '../log/logger.js';

/** Descriptor operations from the native module (native/src/bind_fd.rs). */
export interface DescriptorOps {
  dupFd(fd: number): number;
  closeFd(fd: number): void;
}

/** How a server's listeners accept: shared by every node:net listener of a server. */
export interface AcceptPacing {
  /** Connections accepted per second per listener; 0 = no pacing. */
  readonly ratePerSecond: number;
  /** Length of the kernel's queue of connections not yet accepted. */
  readonly backlog: number;
  /** null when the native module is off: pauses then re-bind the port. */
  readonly descriptors: DescriptorOps | null;
  readonly log: Logger;
}

/** The bucket holds this many milliseconds of the rate: bursts stay short, pauses rare. */
const BUCKET_MS = 2;
/** Pause notices are logged at most this often per listener. */
const NOTICE_MS = 10_000;

/** Node's listening handle exposes its descriptor as `fd` (Unix); not a public API, so checked. */
function listeningFd(server: Server): number {
  const handle = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** A token bucket in front of one listening server; counts every connection the server accepts. */
export class AcceptGate {
  private tokens: number;
  private readonly capacity: number;
  private refilledAt = performance.now();
  private paused = false;
  private closed = false;
  /** The listening socket kept open while the server's handle is closed; -1 when none. */
  private heldFd = -1;
  private timer: NodeJS.Timeout | null = null;
  /** Between a re-listen and its 'listening' (or 'error') event. */
  private relistening = false;
  /** Pauses since the last notice, and when it was logged. */
  private pauses = 0;
  private noticedAt = -Infinity;

  constructor(
    private readonly server: Server,
    private readonly pacing: AcceptPacing,
    /** Where the server listens, for a re-bind without the native module. */
    private readonly address: { host: string; port: number },
    private readonly name: string,
  ) {
    this.capacity = Math.max(1, (pacing.ratePerSecond * BUCKET_MS) / 1000);
    this.tokens = this.capacity;
    server.on('connection', this.onConnection);
    // Re-listening can fail (descriptor limit, port taken during a re-bind): log and retry
    // rather than let the 'error' event end the process.
    server.on('error', this.onError);
    server.on('listening', this.onListening);
  }

  /** Stops pacing for good (shutdown): no re-listen, the held descriptor closed. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.releaseHeld();
  }

  private readonly onConnection = (): void => {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) * this.pacing.ratePerSecond) / 1000);
    this.refilledAt = now;
    this.tokens -= 1;
    if (this.tokens < 1 && !this.paused && !this.closed) this.pause();
  };

  private pause(): void {
    const fd = this.pacing.descriptors !== null ? listeningFd(this.server) : -1;
    if (fd >= 0) {
      try {
        this.heldFd = this.pacing.descriptors!.dupFd(fd);
      } catch (err) {
        this.pacing.log.warn('cannot pause accepting: descriptor not duplicated; accepting on', { listener: this.name, error: (err as Error).message });
        return;
      }
    }
    this.paused = true;
    // Closing the handle inside this 'connection' event ends libuv's accept loop right here.
    this.server.close();
    // Refill to a full bucket before accepting again, so pauses stay BUCKET_MS apart at least.
    const waitMs = Math.max(1, ((this.capacity - this.tokens) * 1000) / this.pacing.ratePerSecond);
    // Not unref'd: while paused this timer is what keeps a process with no other handle alive.
    this.timer = setTimeout(this.resume, waitMs);
    this.pauses++;
    const now = performance.now();
    if (now - this.noticedAt >= NOTICE_MS) {
      this.pacing.log.warn('accept rate above --max-accept-rate: listener pausing', {
        listener: this.name,
        maxAcceptRate: this.pacing.ratePerSecond,
        pausesSinceLastNotice: this.pauses,
        backlog: this.heldFd >= 0 ? 'kept' : 'refused while paused (native module off)',
      });
      this.noticedAt = now;
      this.pauses = 0;
    }
  }

  private readonly resume = (): void => {
    this.timer = null;
    if (this.closed) return;
    this.paused = false;
    this.relistening = true;
    const backlog = this.pacing.backlog;
    if (this.heldFd >= 0) {
      const fd = this.heldFd;
      this.heldFd = -1; // the server's new handle owns it from here
      this.server.listen({ fd, backlog });
    } else {
      this.server.listen({ host: this.address.host, port: this.address.port, backlog });
    }
  };

  private readonly onListening = (): void => {
    this.relistening = false;
  };

  private readonly onError = (err: Error): void => {
    // Other errors (a failed accept: EMFILE...) are bindServer's to log; the server listens on.
    if (this.closed || !this.relistening) return;
    this.relistening = false;
    this.pacing.log.error('listener could not resume accepting; retrying in 1 s', { listener: this.name, error: err.message });
    this.paused = true;
    this.timer = setTimeout(this.resume, 1000);
  };

  private releaseHeld(): void {
    if (this.heldFd < 0) return;
    try {
      this.pacing.descriptors?.closeFd(this.heldFd);
    } catch {
      /* already closed: nothing is left to release */
    }
    this.heldFd = -1;
  }
}
