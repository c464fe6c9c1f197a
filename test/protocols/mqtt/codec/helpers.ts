/** Shared test helpers for the codec suites: hex vectors and typed-error assertions. */

import assert from 'node:assert/strict';
import { decodeFrame } from '../../../../src/protocols/mqtt/codec/decode.js';
import type { Packet, ProtocolVersion } from '../../../../src/protocols/mqtt/codec/packets.js';

/** Bytes from a hex string that may contain spaces for readability. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** Decodes one packet given as hex. */
export function decodeHex(s: string, version: ProtocolVersion): Packet {
  return decodeFrame(hex(s), version);
}

export interface ExpectedError {
  /** Class name, e.g. 'MalformedPacketError'. */
  name: string;
  code: string;
  reason: number;
  /** Must appear in the message: the field and what is wrong with it. */
  message: RegExp;
}

export const MALFORMED = { name: 'MalformedPacketError', code: 'JN_MALFORMED', reason: 0x81 } as const;
export const PROTOCOL = { name: 'ProtocolError', code: 'JN_PROTOCOL', reason: 0x82 } as const;

/**
 * Asserts `fn` throws the expected typed error. Checks name/code/reason rather than instanceof:
 * JunctionError's brand makes every subclass's instanceof accept any JunctionError.
 */
export function assertThrowsCodec(fn: () => unknown, expected: ExpectedError): void {
  assert.throws(fn, (err: unknown) => {
    const e = err as { name?: unknown; code?: unknown; reason?: unknown; message?: unknown };
    assert.equal(e.name, expected.name, `error class (message: ${String(e.message)})`);
    assert.equal(e.code, expected.code);
    assert.equal(e.reason, expected.reason);
    assert.match(String(e.message), expected.message);
    return true;
  });
}

/** Shorthand: malformed with a message matching `message`. */
export function malformed(message: RegExp): ExpectedError {
  return { ...MALFORMED, message };
}

/** Shorthand: protocol error with a message matching `message`. */
export function protocol(message: RegExp): ExpectedError {
  return { ...PROTOCOL, message };
}
