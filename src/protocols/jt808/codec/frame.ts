/**
 * JT/T 808 framing: `7E | escaped(header | body | check) | 7E`, where 7E is sent as 7D 02 and
 * 7D as 7D 01, and check is the XOR of header and body. The scanner finds frames in a byte
 * stream, carries a partial frame across chunks, and resynchronises on the next 7E after
 * garbage or an oversized frame (an empty "7E 7E" pair makes the second 7E an opening, so a
 * scanner that lost track finds its feet at the next frame boundary).
 */
import { FrameFault } from './errors.js';

const FLAG = 0x7e;
const ESC = 0x7d;

/** XOR of buf[start..end). */
export function xorChecksum(buf: Uint8Array, start: number, end: number): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= buf[i]!;
  return x;
}

/**
 * Unescapes src[start..end) into dst (which must hold end - start bytes); returns the length,
 * or -1 for 7D followed by anything but 01/02 (or 7D as the last byte).
 */
export function unescapeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  let n = 0;
  // Most frames hold no 7D at all: find the first one, copy the run before it in one go.
  let i = start;
  while (i < end) {
    const esc = src.indexOf(ESC, i);
    const runEnd = esc === -1 || esc >= end ? end : esc;
    if (runEnd > i) {
      dst.set(src.subarray(i, runEnd), n);
      n += runEnd - i;
    }
    if (runEnd === end) return n;
    const next = runEnd + 1 < end ? src[runEnd + 1]! : -1;
    if (next === 0x02) dst[n++] = FLAG;
    else if (next === 0x01) dst[n++] = ESC;
    else return -1;
    i = runEnd + 2;
  }
  return n;
}

/** Appends the check byte, escapes, and adds both delimiters: the bytes to write. */
export function sealFrame(content: Uint8Array, length: number): Buffer {
  const check = xorChecksum(content, 0, length);
  let extra = check === FLAG || check === ESC ? 1 : 0;
  for (let i = 0; i < length; i++) {
    const b = content[i]!;
    if (b === FLAG || b === ESC) extra++;
  }
  const out = Buffer.allocUnsafe(length + 3 + extra);
  out[0] = FLAG;
  let o = 1;
  if (extra === 0) {
    out.set(content.subarray(0, length), 1);
    o = 1 + length;
  } else {
    for (let i = 0; i < length; i++) o = putEscaped(out, o, content[i]!);
  }
  o = putEscaped(out, o, check);
  out[o] = FLAG;
  return out;
}

function putEscaped(out: Buffer, o: number, b: number): number {
  if (b === FLAG) {
    out[o] = ESC;
    out[o + 1] = 0x02;
    return o + 2;
  }
  if (b === ESC) {
    out[o] = ESC;
    out[o + 1] = 0x01;
    return o + 2;
  }
  out[o] = b;
  return o + 1;
}

/** Where the scanner hands what it finds. */
export interface FrameSink {
  /**
   * One unescaped frame (header, body, check byte) in frame[0..length). The buffer is shared
   * and reused: copy what must outlive the call. Returns false to stop scanning: the rest of
   * the chunk is kept for resume() (the connection paused), or dropped with clear() (closed).
   */
  onFrame(frame: Buffer, length: number): boolean;
  /** A fault the scanner saw (garbage, oversize, bad escape); `bytes` is how many were dropped. */
  onFrameFault(fault: FrameFault, bytes: number): boolean;
}

// One unescape buffer for every connection: frames are handled synchronously, one at a time.
let scratch = Buffer.allocUnsafe(4096);

/** Stream state of one connection: between frames, or inside one (with a partial tail). */
export class FrameScanner {
  private maxFrameSize: number;
  private inFrame = false;
  /** escaped bytes of the current frame from earlier chunks (without the opening 7E) */
  private partial: Buffer | null = null;
  /** after an oversized frame: bytes up to the next 7E are part of it, not garbage */
  private discarding = false;
  /** bytes not scanned yet: what followed a stop, and what arrived while paused */
  private held: Buffer | null = null;

  /** maxFrameSize bounds the escaped bytes between two delimiters. */
  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
    if (scratch.length < maxFrameSize) scratch = Buffer.allocUnsafe(maxFrameSize);
  }

  /** Sets the frame size bound (smaller before login: --max-connect-size). */
  limit(maxFrameSize: number): void {
    this.maxFrameSize = maxFrameSize;
    if (scratch.length < maxFrameSize) scratch = Buffer.allocUnsafe(maxFrameSize);
  }

  /** Bytes held: an unfinished frame (bounded by maxFrameSize) and what waits to be scanned. */
  get pendingBytes(): number {
    return (this.partial === null ? 0 : this.partial.length) + (this.held === null ? 0 : this.held.length);
  }

  /** Keeps a chunk unscanned (the connection is paused) for resume(). */
  hold(chunk: Buffer): void {
    this.held = this.held === null ? Buffer.from(chunk) : Buffer.concat([this.held, chunk]);
  }

  /** Scans what was kept at a stop or while paused. */
  resume(sink: FrameSink): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    this.push(held, sink);
  }

  /** Forgets everything held (the connection closed). */
  clear(): void {
    this.held = null;
    this.partial = null;
  }

  /** Scans one chunk, calling the sink for each frame and fault in order. */
  push(chunk: Buffer, sink: FrameSink): void {
    if (this.held !== null) {
      chunk = Buffer.concat([this.held, chunk]);
      this.held = null;
    }
    const len = chunk.length;
    const max = this.maxFrameSize;
    let pos = 0;
    let start = 0;
    while (pos <= len) {
      if (!this.inFrame) {
        const open = chunk.indexOf(FLAG, pos);
        const stop = open === -1 ? len : open;
        if (stop > pos && !this.discarding && !sink.onFrameFault(FrameFault.Garbage, stop - pos)) return;
        if (open === -1) return;
        this.discarding = false;
        this.inFrame = true;
        pos = start = open + 1;
        continue;
      }
      const close = chunk.indexOf(FLAG, pos);
      if (close === -1) {
        const have = (this.partial === null ? 0 : this.partial.length) + (len - start);
        if (have > max) {
          this.partial = null;
          this.inFrame = false;
          this.discarding = true;
          sink.onFrameFault(FrameFault.TooLarge, have);
          return;
        }
        if (len > start) {
          const tail = chunk.subarray(start);
          this.partial = this.partial === null ? Buffer.from(tail) : Buffer.concat([this.partial, tail]);
        } else if (this.partial === null) {
          this.partial = Buffer.alloc(0);
        }
        return;
      }
      let src: Buffer = chunk;
      let fs = start;
      let fe = close;
      if (this.partial !== null) {
        src = this.partial.length === 0 ? chunk : Buffer.concat([this.partial, chunk.subarray(start, close)]);
        if (this.partial.length !== 0) {
          fs = 0;
          fe = src.length;
        }
        this.partial = null;
      }
      pos = close + 1;
      if (fe === fs) {
        // "7E 7E": the end of nothing, so this 7E opens the next frame.
        start = pos;
        continue;
      }
      this.inFrame = false;
      if (fe - fs > max) {
        if (!sink.onFrameFault(FrameFault.TooLarge, fe - fs)) return;
        continue;
      }
      const n = unescapeInto(src, fs, fe, scratch);
      if (n < 0) {
        if (!sink.onFrameFault(FrameFault.BadEscape, fe - fs)) return;
        continue;
      }
      if (!sink.onFrame(scratch, n)) {
        // Stopped between frames: what follows waits for resume().
        if (pos < len) this.held = Buffer.from(chunk.subarray(pos));
        return;
      }
    }
  }
}
