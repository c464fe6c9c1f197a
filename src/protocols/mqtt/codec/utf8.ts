/**
 * MQTT UTF-8 string checks [MQTT-1.5.4]: well-formed UTF-8, no surrogates, no U+0000. Buffer's
 * decoder silently substitutes U+FFFD, so validity is checked before decoding.
 */

import { isUtf8 } from 'node:buffer';

/** Bit set by scanString: a byte >= 0x80 was seen (validation needed). */
export const STR_NON_ASCII = 1;
/** Bit set by scanString: a 0x00 byte (U+0000) was seen. */
export const STR_NUL = 2;
/** Bit set by scanString: '+' or '#' was seen. */
export const STR_WILDCARD = 4;

/** One pass over buf[start, end) reporting STR_* bits; ASCII-only bytes need no further check. */
export function scanString(buf: Buffer | Uint8Array, start: number, end: number): number {
  let bits = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b >= 0x80) bits |= STR_NON_ASCII;
    else if (b === 0) bits |= STR_NUL;
    else if (b === 0x2b || b === 0x23) bits |= STR_WILDCARD;
  }
  return bits;
}

/** True when buf[start, end) is well-formed UTF-8 without surrogates (caller checks U+0000). */
export function isWellFormedUtf8(buf: Buffer, start: number, end: number): boolean {
  // isUtf8 (simdutf) rejects overlong forms, encoded surrogates and code points above U+10FFFF.
  return isUtf8(buf.subarray(start, end));
}

// U+0000 or a lone surrogate (String.prototype.isWellFormed is ES2024, past our target).
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what MQTT strings may not hold.
const INVALID_STRING = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` is a valid MQTT UTF-8 string (no lone surrogates, no U+0000). */
export function isValidMqttString(s: string): boolean {
  return !INVALID_STRING.test(s);
}
