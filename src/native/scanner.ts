/**
 * The frame scanner, native or twin: both take the same arguments and write the same numbers
 * (contract in src/protocols/mqtt/codec/scanner.ts), so callers hold one function.
 *
 * One native call costs ~140 ns of argument marshalling before any scanning, the twin ~20 ns;
 * native scans ~2.5x faster per packet. So the native scanner only pays on ranges holding many
 * packets; `scannerFor` returns a scanner that sends short ranges, and ranges that are mostly
 * one packet (a large PUBLISH arriving over many reads), to the twin. See
 * bench/micro/native-scanner.bench.ts for the figures behind ADAPTIVE_MIN_BYTES.
 */
import { scanFrames as scanFramesTs } from '../protocols/mqtt/codec/scanner.js';
import type { NativeBinding } from './binding.js';

/** Signature shared by the native scanner and its TypeScript twin. */
export type ScanFrames = (buf: Uint8Array, start: number, end: number, maxPacketSize: number, v5: boolean, out: Uint32Array) => void;

/** Ranges shorter than this go to the twin: about 20 small packets, where the two break even. */
export const ADAPTIVE_MIN_BYTES = 1024;

/**
 * True when buf[start, end) holds few packets: fewer than ADAPTIVE_MIN_BYTES follow the first
 * packet, or that packet (or its header) is still incomplete.
 */
function fewPackets(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < ADAPTIVE_MIN_BYTES) return true;
  let remaining = 0;
  let mult = 1;
  for (let p = start + 1, n = 0; n < 4; p++, n++) {
    if (p >= end) return true;
    const b = buf[p];
    remaining += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return p + 1 + remaining + ADAPTIVE_MIN_BYTES > end;
    mult *= 128;
  }
  // Four continuation bytes: malformed, reported identically by either implementation.
  return false;
}

/** A scanner picking per call whichever implementation is cheaper for the range. */
export function adaptiveScanner(native: NativeBinding): ScanFrames {
  const scanNative = native.scanFrames;
  return (buf, start, end, maxPacketSize, v5, out) => {
    if (fewPackets(buf, start, end)) {
      scanFramesTs(buf, start, end, maxPacketSize, v5, out);
    } else {
      scanNative(buf, start, end, maxPacketSize, v5, out);
    }
  };
}

/** The adaptive scanner when `native` is loaded, else the TypeScript twin. */
export function scannerFor(native: NativeBinding | null): ScanFrames {
  return native === null ? scanFramesTs : adaptiveScanner(native);
}
