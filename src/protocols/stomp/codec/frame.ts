/**
 * A STOMP frame as the parser hands it over: command, headers (the first of repeated headers
 * wins, values untrimmed) and body bytes.
 */

/** The STOMP versions, as the wire spells them. */
export type StompVersion = '1.0' | '1.1' | '1.2';

/** Every version this server speaks, lowest first. */
export const SUPPORTED_VERSIONS: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

/** How header names and values are escaped: none in 1.0 (and CONNECT/CONNECTED), 1.1, 1.2. */
export const enum Escaping {
  None = 0,
  V11 = 1,
  V12 = 2,
}

/** The escaping a negotiated version uses. */
export function escapingOf(version: StompVersion): Escaping {
  return version === '1.0' ? Escaping.None : version === '1.1' ? Escaping.V11 : Escaping.V12;
}

/** Client frames a server accepts. */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set(['CONNECT', 'STOMP', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT']);

/** Only these frames may carry a body (STOMP 1.2 "Frames and Headers"). */
export const BODY_COMMANDS: ReadonlySet<string> = new Set(['SEND', 'MESSAGE', 'ERROR']);

/** Headers of one frame, in wire order; the first of repeated headers wins. */
export type StompHeaders = Map<string, string>;

export class StompFrame {
  readonly command: string;
  readonly headers: StompHeaders;
  readonly body: Buffer;

  constructor(command: string, headers: StompHeaders, body: Buffer) {
    this.command = command;
    this.headers = headers;
    this.body = body;
  }

  /** The header's value, or undefined. */
  header(name: string): string | undefined {
    return this.headers.get(name);
  }
}

/** A shared empty body, so frames without one allocate nothing. */
export const EMPTY_BODY: Buffer = Buffer.alloc(0);

/** Server frames (for clients and tests that parse what the server sends). */
export const SERVER_COMMANDS: ReadonlySet<string> = new Set(['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR']);
