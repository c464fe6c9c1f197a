/**
 * The frame scanner, native or twin: both take the same arguments and write the same numbers
 * (contract in src/protocols/mqtt/codec/scanner.ts), so callers hold one function.
 */
import { scanFrames as scanFramesTs } from '../protocols/mqtt/codec/scanner.js';
import type { NativeBinding } from './binding.js';

/** Signature shared by the native scanner and its TypeScript twin. */
export type ScanFrames = (
  buf: Uint8Array,
  start: number,
  end: number,
  maxPacketSize: number,
  v5: boolean,
  out: Uint32Array,
) => void;

/** The native scanner when `native` is loaded, else the TypeScript twin. */
export function scannerFor(native: NativeBinding | null): ScanFrames {
  return native === null ? scanFramesTs : native.scanFrames;
}
