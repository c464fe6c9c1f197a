/**
 * JT/T 808 codec errors. Each is an expected outcome of bad input that ends one frame (never
 * the connection): the gateway answers or drops the frame and counts a violation.
 */

/** A body that does not fit its message's layout (too short, trailing bytes, bad BCD). */
export class Jt808BodyError extends Error {
  readonly code = 'JT808_BODY' as const;
  constructor(message: string) {
    super(message);
    this.name = 'Jt808BodyError';
  }
}

/** Downlink JSON from a backend that cannot become a frame (missing or mistyped field). */
export class Jt808InputError extends Error {
  readonly code = 'JT808_INPUT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'Jt808InputError';
  }
}

/** Why a received frame was not usable; the gateway's answer depends on it. */
export const enum FrameFault {
  None = 0,
  /** 7D followed by something other than 01/02: nothing in it can be trusted, dropped */
  BadEscape = 1,
  /** XOR check mismatch: answered 8001 result 2 when the header is readable */
  BadChecksum = 2,
  /** fewer bytes than a header and check byte */
  TooShort = 3,
  /** body length field differs from the bytes present: answered 8001 result 2 */
  LengthMismatch = 4,
  /** more bytes between delimiters than --jt808-max-frame-size: dropped */
  TooLarge = 5,
  /** bytes outside 7E delimiters: dropped */
  Garbage = 6,
  /** terminal phone number with a BCD nibble above 9: no reply could carry it, dropped */
  BadPhone = 7,
}

/** Short names for logs and tests. */
export const FRAME_FAULT_NAMES: readonly string[] = ['none', 'bad-escape', 'bad-checksum', 'too-short', 'length-mismatch', 'too-large', 'garbage', 'bad-phone'];
