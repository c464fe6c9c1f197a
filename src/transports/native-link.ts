/**
 * One connection of the native TCP transport as a protocol sees it (native-tcp.ts has the
 * listener): an id into the Rust listener, its handler, its flags and byte counts; no net.Socket,
 * no stream state. Writes go to the listener's turn arena; closes are reported to the handler
 * after the call that closed the link, as node:net reports 'close'.
 */
import type { Link, LinkHandler, TransportName } from './link.js';
import type { NativeTcpListener } from './native-tcp.js';

/** Low bits of an id: the slot, the index into a listener's links. */
export const SLOT_MASK = (1 << 21) - 1;
/** write() answers false above this many bytes buffered, as node:net's default high-water mark. */
const HIGH_WATER = 16 * 1024;

// Link flags.
const PAUSED = 1;
const ENDED = 2;
export const NEED_DRAIN = 4;
/** Rust finds this connection's MQTT frames (frameMqtt); cleared when plain bytes come again. */
export const FRAMED = 8;
/** flags above this bit: how long the connection was silent before its link was made (ms). */
export const SILENT_SHIFT = 8;

/** One connection as a protocol sees it: an id into the Rust listener, its handler, its byte counts. */
export class NativeLink implements Link {
  /**
   * The Rust listener's id of the connection; once closed (by either side), its complement
   * (negative): no call reaches a socket with it, but Rust still tells its peer until the slot
   * is reused, so a closed link costs no copy of its address.
   */
  id: number;
  handler: LinkHandler | null = null;
  flags = 0;
  /** Bytes of this turn's writes in the listener's write arena, not yet handed to Rust. */
  queuedBytes = 0;
  /** Bytes Rust still holds for this socket (from the last write call until the drain event). */
  nativePending = 0;

  constructor(
    readonly listener: NativeTcpListener,
    id: number,
  ) {
    this.id = id;
  }

  get transport(): TransportName {
    return 'tcp';
  }
  get remoteAddress(): string {
    const id = this.id;
    return this.listener.native.tcpPeerAddress(this.listener.handle, id >= 0 ? id : ~id);
  }
  get remotePort(): number {
    const id = this.id;
    return this.listener.native.tcpPeerPort(this.listener.handle, id >= 0 ? id : ~id);
  }
  get bufferedAmount(): number {
    return this.queuedBytes + this.nativePending;
  }
  get silentForMs(): number {
    return this.flags >>> SILENT_SHIFT;
  }

  write(data: Buffer): boolean {
    if (this.id < 0 || (this.flags & ENDED) !== 0) return false;
    this.listener.enqueue(this, data);
    if (this.queuedBytes + this.nativePending < HIGH_WATER) return true;
    this.flags |= NEED_DRAIN;
    return false;
  }
  frameMqtt(maxPacketSize: number, v5: boolean): void {
    if (this.id < 0 || (this.flags & FRAMED) !== 0) return;
    this.flags |= FRAMED;
    this.listener.native.tcpFrame(this.listener.handle, this.id, maxPacketSize, v5);
  }
  cork(): void {
    /* every write waits for the turn's flush anyway */
  }
  uncork(): void {
    // The first link uncorked at the end of a turn sends every link's writes in one call.
    this.listener.flush();
  }
  pause(): void {
    if (this.id < 0 || (this.flags & PAUSED) !== 0) return;
    this.flags |= PAUSED;
    this.listener.native.tcpPause(this.listener.handle, this.id);
  }
  resume(): void {
    // An ended link never reads again (as tcp.ts).
    if (this.id < 0 || (this.flags & (PAUSED | ENDED)) !== PAUSED) return;
    this.flags &= ~PAUSED;
    this.listener.native.tcpResume(this.listener.handle, this.id);
  }
  end(): void {
    if (this.id < 0 || (this.flags & ENDED) !== 0) return;
    if (this.queuedBytes > 0) this.listener.flush();
    if (this.id < 0) return;
    this.flags |= ENDED;
    // Rust sends FIN after what is pending, closes when the peer does (2 s at most), then says so.
    this.listener.native.tcpEnd(this.listener.handle, this.id);
  }
  destroy(): void {
    const id = this.id;
    if (id < 0) return;
    this.forget();
    this.listener.native.tcpDestroy(this.listener.handle, id);
    closedLater(this, false);
  }

  /** The id is no longer valid (Rust closed the socket or is about to). */
  forget(): void {
    this.listener.links[this.id & SLOT_MASK] = undefined;
    // Its queued segments stay in the arena: Rust ignores an id whose generation has passed.
    this.id = ~this.id;
  }
}

// --- closes and drains reported to handlers after the current call --------------------------

const closing: NativeLink[] = [];
const closingErrors: boolean[] = [];
let closeScheduled = false;

/** node:net reports 'close' asynchronously; so does this, after the call that closed the link. */
export function closedLater(link: NativeLink, hadError: boolean): void {
  closing.push(link);
  closingErrors.push(hadError);
  if (!closeScheduled) {
    closeScheduled = true;
    process.nextTick(reportCloses);
  }
}

function reportCloses(): void {
  closeScheduled = false;
  const links = closing.splice(0, closing.length);
  const errors = closingErrors.splice(0, closingErrors.length);
  for (let i = 0; i < links.length; i++) links[i]!.handler?.onClose(errors[i]!);
}
