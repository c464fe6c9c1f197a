/**
 * Frame encoding. A frame is written as its head (command, headers, blank line) and, when it
 * has one, its body and NUL as separate buffers: the body of a MESSAGE is the message payload
 * itself, never copied per subscriber.
 */
import { Escaping } from './frame.js';
import { escapeHeader } from './escape.js';

/** A header list in order; names and values unescaped (the encoder escapes them). */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

export const NUL_BYTE: Buffer = Buffer.from([0]);
/** What a heart-beat is on the wire. */
export const HEARTBEAT: Buffer = Buffer.from('\n');

/** The head of a frame: `COMMAND\nname:value\n...\n\n`. */
function encodeHead(command: string, headers: HeaderList, mode: Escaping): string {
  // CONNECTED is read before the client knows the version: never escaped.
  const escaping = command === 'CONNECTED' ? Escaping.None : mode;
  let head = command + '\n';
  for (const [name, value] of headers) {
    // A 1.0 peer splits at the first colon and cannot read one in a name: leave such a header out.
    if (escaping === Escaping.None && (name.indexOf(':') !== -1 || name.indexOf('\n') !== -1)) continue;
    head += escapeHeader(name, escaping) + ':' + escapeHeader(value, escaping) + '\n';
  }
  return head + '\n';
}

/** A whole frame in one buffer (control frames: CONNECTED, RECEIPT, ERROR). */
export function encodeFrame(command: string, headers: HeaderList, body: Buffer | null, mode: Escaping): Buffer {
  const head = encodeHead(command, headers, mode);
  const headBytes = Buffer.byteLength(head);
  const bodyLength = body === null ? 0 : body.length;
  const out = Buffer.allocUnsafe(headBytes + bodyLength + 1);
  out.write(head, 0, 'utf8');
  if (body !== null) body.copy(out, headBytes);
  out[headBytes + bodyLength] = 0;
  return out;
}
