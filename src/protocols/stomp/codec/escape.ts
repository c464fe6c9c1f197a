/**
 * Header escaping (STOMP 1.1 and 1.2): `\n` LF, `\c` colon, `\\` backslash, and in 1.2 `\r` CR.
 * Any other escape is a fatal error. 1.0, CONNECT and CONNECTED frames are not escaped; a 1.0
 * peer cannot receive a LF or a colon in a header name, so those are replaced on the way out.
 */
import { Escaping } from './frame.js';
import { malformed } from '../errors.js';

/** Decodes one header name or value; throws StompError naming a bad escape. */
export function unescapeHeader(text: string, mode: Escaping): string {
  if (mode === Escaping.None || text.indexOf('\\') === -1) return text;
  let out = '';
  let from = 0;
  for (;;) {
    const at = text.indexOf('\\', from);
    if (at === -1) return out + text.slice(from);
    out += text.slice(from, at);
    const c = text[at + 1];
    if (c === 'n') out += '\n';
    else if (c === 'c') out += ':';
    else if (c === '\\') out += '\\';
    // 1.1 defines no \r, but accepting it costs nothing and helps clients written for 1.2.
    else if (c === 'r') out += '\r';
    else throw malformed(c === undefined ? `header '${text}' ends with a lone backslash` : `undefined escape sequence '\\${c}' in header '${text}'`);
    from = at + 2;
  }
}

const NEEDS_ESCAPE = /[\\\n:\r]/;

/** Encodes one header name or value for a peer of the given escaping. */
export function escapeHeader(text: string, mode: Escaping): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  if (mode === Escaping.None) return text.replace(/[\r\n]/g, ' ');
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === ':') out += '\\c';
    else if (c === '\r') out += mode === Escaping.V12 ? '\\r' : ' ';
    else out += c;
  }
  return out;
}
