/**
 * A connection's byte stream cut into frames: partial frames carried between chunks (copied,
 * so socket chunks are freed), bad bytes skipped with resynchronisation on the next `##`, and
 * a pause while the consumer is busy (login being authenticated) holding the rest.
 */
import { FrameScan, ScanStatus, scanFrame } from './frame.js';

/** What the stream reports to its connection. */
export interface FrameSink {
  /** One whole frame in buf[start, end); return false to stop and hold the rest. */
  onFrame(buf: Buffer, start: number, end: number): boolean;
  onSkipped(bytes: number): void;
  onBadFrame(error: string): void;
}

// Scanning never re-enters, so one result object serves every stream.
const scan = new FrameScan();
const EMPTY = Buffer.alloc(0);

export class FrameStream {
  private held: Buffer | null = null;

  constructor(private maxFrameSize: number) {}

  /** Sets the frame size bound (smaller before login: --max-connect-size). */
  limit(maxFrameSize: number): void {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes kept for later: a partial frame, or everything since a stop. */
  get heldBytes(): number {
    return this.held === null ? 0 : this.held.length;
  }

  /** Keeps the chunk without scanning (the consumer is paused). */
  hold(chunk: Buffer): void {
    this.held = this.held === null ? chunk : Buffer.concat([this.held, chunk]);
  }

  /** Scans what is held plus `chunk` (none: resume after a stop). */
  feed(chunk: Buffer, sink: FrameSink): void {
    let buf = chunk;
    if (this.held !== null) {
      buf = chunk.length === 0 ? this.held : Buffer.concat([this.held, chunk]);
      this.held = null;
    }
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      scanFrame(buf, pos, end, this.maxFrameSize, scan);
      if (scan.skipped > 0) sink.onSkipped(scan.skipped);
      if (scan.status === ScanStatus.NeedMore) {
        if (scan.resume < end) this.held = Buffer.from(buf.subarray(scan.resume));
        return;
      }
      pos = scan.resume;
      if (scan.status === ScanStatus.Error) {
        sink.onBadFrame(scan.error);
        continue;
      }
      if (!sink.onFrame(buf, scan.frameStart, scan.frameEnd)) {
        if (pos < end) this.held = Buffer.from(buf.subarray(pos));
        return;
      }
    }
  }

  /** Resumes scanning what was held at a stop. */
  resume(sink: FrameSink): void {
    if (this.held !== null) this.feed(EMPTY, sink);
  }

  clear(): void {
    this.held = null;
  }
}
