/**
 * Framing: find `##`, read the 24-byte header, check the length against the limit and the BCC
 * (XOR of every byte from the command to the last data byte). The scanner never throws and
 * never copies: it reports one frame, a need for more bytes, or an error plus where to
 * resynchronise (the next `##` after the bad frame's start).
 */
import { HEADER_SIZE, OFFSET_LENGTH, START_BYTE, VIN_LENGTH } from './constants.js';

export const enum ScanStatus {
  /** a whole frame with a correct BCC lies in [frameStart, frameEnd) */
  Frame = 0,
  /** no whole frame yet: keep the bytes from `resume` and wait */
  NeedMore = 1,
  /** a bad frame at frameStart: `error` says why; scan again from `resume` */
  Error = 2,
}

/** What one scan found; one instance is reused for every scan of a connection. */
export class FrameScan {
  status: ScanStatus = ScanStatus.NeedMore;
  frameStart = 0;
  frameEnd = 0;
  /** Where the next scan starts (or the first byte to keep when more is needed). */
  resume = 0;
  /** Bytes skipped before a `##` (garbage); reported, then dropped. */
  skipped = 0;
  error = '';
}

/** XOR of buf[from, to). */
export function bcc(buf: Uint8Array, from: number, to: number): number {
  let x = 0;
  for (let i = from; i < to; i++) x ^= buf[i]!;
  return x;
}

/** Scans buf[from, end) for the next frame, at most maxFrameSize bytes long. */
export function scanFrame(buf: Buffer, from: number, end: number, maxFrameSize: number, out: FrameScan): FrameScan {
  let p = from;
  // Look for "##"; a lone trailing '#' may be the first half of the next start.
  while (p + 1 < end && !(buf[p] === START_BYTE && buf[p + 1] === START_BYTE)) p++;
  if (p + 1 >= end) {
    const keep = p < end && buf[p] === START_BYTE ? p : end;
    out.status = ScanStatus.NeedMore;
    out.skipped = keep - from;
    out.resume = keep;
    return out;
  }
  out.skipped = p - from;
  out.frameStart = p;
  if (end - p < HEADER_SIZE) {
    out.status = ScanStatus.NeedMore;
    out.resume = p;
    return out;
  }
  const dataLength = (buf[p + OFFSET_LENGTH]! << 8) | buf[p + OFFSET_LENGTH + 1]!;
  const total = HEADER_SIZE + dataLength + 1;
  if (total > maxFrameSize) {
    out.status = ScanStatus.Error;
    out.frameEnd = p + 2;
    out.resume = p + 2;
    out.error = `frame of ${total} bytes (data length ${dataLength}) exceeds the maximum frame size of ${maxFrameSize} bytes`;
    return out;
  }
  if (end - p < total) {
    out.status = ScanStatus.NeedMore;
    out.resume = p;
    return out;
  }
  const check = bcc(buf, p + 2, p + total - 1);
  const sent = buf[p + total - 1]!;
  if (check !== sent) {
    out.status = ScanStatus.Error;
    out.frameEnd = p + total;
    // The length itself may be the corrupt byte: resynchronise on the very next "##".
    out.resume = p + 2;
    out.error = `BCC mismatch: frame says 0x${hex2(sent)}, bytes give 0x${hex2(check)} (data length ${dataLength})`;
    return out;
  }
  out.status = ScanStatus.Frame;
  out.frameEnd = p + total;
  out.resume = p + total;
  return out;
}

function hex2(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16).toUpperCase();
}

/** Builds a whole frame: "##", header, data unit, BCC. */
export function encodeFrame(command: number, response: number, vin: string | Buffer, encryption: number, data: Buffer | null): Buffer {
  const dataLength = data === null ? 0 : data.length;
  if (dataLength > 0xffff) throw new RangeError(`data unit of ${dataLength} bytes does not fit the 16-bit length field`);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + dataLength + 1);
  frame[0] = START_BYTE;
  frame[1] = START_BYTE;
  frame[2] = command;
  frame[3] = response;
  if (typeof vin === 'string') {
    frame.fill(0, 4, 4 + VIN_LENGTH);
    frame.write(vin, 4, VIN_LENGTH, 'latin1');
  } else {
    frame.fill(0, 4, 4 + VIN_LENGTH);
    vin.copy(frame, 4, 0, Math.min(vin.length, VIN_LENGTH));
  }
  frame[21] = encryption;
  frame.writeUInt16BE(dataLength, OFFSET_LENGTH);
  if (data !== null) data.copy(frame, HEADER_SIZE);
  frame[frame.length - 1] = bcc(frame, 2, frame.length - 1);
  return frame;
}
