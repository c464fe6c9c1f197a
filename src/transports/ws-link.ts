/**
 * The Link over one uWebSockets.js WebSocket. Each write is one binary frame (a protocol may
 * put several packets in a frame or split one over frames; the receiving side reassembles).
 *
 * - cork/uncork: uWS corks only inside its own callbacks (ws.cork(cb) is synchronous), so a
 *   corked link keeps the turn's frames in an array and hands them over in one ws.cork at
 *   uncork: one syscall (one TLS record batch) per turn, also for writes made outside uWS
 *   callbacks (a fan-out from a TCP publisher).
 * - pause/resume: uWebSockets.js 20.30 cannot stop reading a WebSocket. A paused link keeps
 *   what arrives (bounded by `pausedLimit`; past it the client is closed with 1008) and hands
 *   it over, in order, after resume. Without a front that is all: the client may go on sending
 *   until the limit. Behind a front (wss, and ws unless --ws-check-masks is false) the link also
 *   pauses its `gate`, the front's client socket (ws-front.ts), so the client is no longer read
 *   and only bytes already on their way arrive.
 * - A closed uWS socket throws on any call: `ws` is null from the close event on, and every
 *   call checks it.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Link, LinkAcceptor, LinkHandler } from './link.js';
import type { ReadGate } from './ws-front.js';

/** What uWS keeps per socket; this version merges it into the ws object itself. */
export interface WsUserData {
  link: WsLink;
}

/** Limits shared by every link of one listener. */
export interface WsLinkLimits {
  /** Bytes kept for a paused link before it is closed. */
  readonly pausedLimit: number;
}

/** uWS send() results. */
const SEND_DROPPED = 2;
const SEND_SUCCESS = 1;
/** Above this, write() reports backpressure, as node:net does past its high-water mark. */
const HIGH_WATER = 65_536;
/** RFC 6455 close codes. */
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY = 1008;
const CLOSE_ABNORMAL = 1006;
const CLOSE_TRY_LATER = 1013;

export class WsLink implements Link {
  readonly transport: 'ws' | 'wss';
  readonly remoteAddress: string;
  /** 0 without a front: uWebSockets.js 20.30 does not expose the peer's port; a front knows it. */
  readonly remotePort: number;
  peerIdentity: string | null = null;
  /** The protocol side; null until open and after close. */
  handler: LinkHandler | null = null;
  private ws: WebSocket<WsUserData> | null = null;
  private readonly limits: WsLinkLimits;
  /** What really stops the client's bytes (the front's client socket); null when nothing can (no front). */
  private readonly gate: ReadGate | null;
  private corked = false;
  private out: Buffer[] | null = null;
  private outBytes = 0;
  private paused = false;
  private inbox: Buffer[] | null = null;
  private inboxBytes = 0;
  private overflowed = false;

  constructor(transport: 'ws' | 'wss', remoteAddress: string, remotePort: number, limits: WsLinkLimits, gate: ReadGate | null) {
    this.transport = transport;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.limits = limits;
    this.gate = gate;
  }

  /** The upgrade completed: the socket is usable until `closed`; false when the protocol refused it (then closed with 1013). */
  opened(ws: WebSocket<WsUserData>, accept: LinkAcceptor): boolean {
    this.ws = ws;
    const handler = accept(this);
    if (handler === null) {
      // 1013 Try Again Later: the protocol refused (e.g. --max-connections) and has logged why.
      ws.end(CLOSE_TRY_LATER, 'server busy');
      return false;
    }
    this.handler = handler;
    return true;
  }

  /** One WebSocket message: copied once (uWS reuses its buffer after the callback), then handed on. */
  received(message: ArrayBuffer): void {
    const handler = this.handler;
    if (handler === null) return;
    const chunk = Buffer.from(message.slice(0));
    if (this.paused || this.inbox !== null) {
      this.keep(chunk);
      return;
    }
    handler.onData(chunk);
  }

  /** uWS's drain event: its send buffer went down. */
  drained(): void {
    this.handler?.onDrain();
  }

  /** uWS's close event (also fired synchronously by end() and destroy()). */
  closed(code: number): void {
    this.ws = null;
    this.out = null;
    this.inbox = null;
    const handler = this.handler;
    this.handler = null;
    handler?.onClose(code === CLOSE_ABNORMAL);
  }

  write(data: Buffer): boolean {
    const ws = this.ws;
    if (ws === null || this.overflowed) return false;
    if (this.corked) {
      if (this.out === null) this.out = [data];
      else this.out.push(data);
      this.outBytes += data.length;
      return this.outBytes + ws.getBufferedAmount() < HIGH_WATER;
    }
    const status = ws.send(data, true, false);
    if (status === SEND_DROPPED) {
      this.overflow();
      return false;
    }
    return status === SEND_SUCCESS;
  }

  cork(): void {
    this.corked = true;
  }

  uncork(): void {
    this.corked = false;
    this.flush();
  }

  pause(): void {
    this.paused = true;
    this.gate?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.gate?.resume();
    // Later, not now: the caller may still be handing over data it kept before this one.
    if (this.inbox !== null) queueMicrotask(() => this.deliverKept());
  }

  end(): void {
    this.flush();
    this.ws?.end(CLOSE_NORMAL);
  }

  destroy(): void {
    this.ws?.close();
  }

  get bufferedAmount(): number {
    const ws = this.ws;
    return ws === null ? 0 : ws.getBufferedAmount() + this.outBytes;
  }

  /** Sends what was written while corked, in one ws.cork. */
  private flush(): void {
    const ws = this.ws;
    const out = this.out;
    if (ws === null || out === null) return;
    this.out = null;
    this.outBytes = 0;
    let dropped = false as boolean;
    if (out.length === 1) {
      dropped = ws.send(out[0]!, true, false) === SEND_DROPPED;
    } else {
      ws.cork(() => {
        for (let i = 0; i < out.length && !dropped; i++) dropped = ws.send(out[i]!, true, false) === SEND_DROPPED;
      });
    }
    if (dropped) this.overflow();
  }

  /**
   * uWS dropped a frame: the client has more than --ws-max-backpressure unread. A lost frame
   * would break the protocol's stream, so the client is closed (QoS 1/2 resume on reconnect).
   */
  private overflow(): void {
    this.out = null;
    if (this.overflowed) return;
    this.overflowed = true;
    // Closed after the current delivery returns: closing now would re-enter the protocol mid-send.
    queueMicrotask(() => this.ws?.end(CLOSE_POLICY, 'slow consumer: send buffer limit exceeded'));
  }

  private keep(chunk: Buffer): void {
    if (this.inbox === null) this.inbox = [chunk];
    else this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    if (this.inboxBytes > this.limits.pausedLimit) this.ws?.end(CLOSE_POLICY, 'too much data sent while reading was paused');
  }

  private deliverKept(): void {
    const inbox = this.inbox;
    if (inbox === null) return;
    while (!this.paused && this.handler !== null && inbox.length > 0) {
      const chunk = inbox.shift()!;
      this.inboxBytes -= chunk.length;
      this.handler.onData(chunk);
    }
    if (inbox.length === 0 && this.inbox === inbox) {
      this.inbox = null;
      this.inboxBytes = 0;
    }
  }
}
