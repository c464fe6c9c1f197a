/**
 * Errors that end a STOMP connection with an ERROR frame. The message is what the client reads
 * in the ERROR frame's `message` header, so it names what was wrong (the header, the limit, the
 * destination). The JunctionError code and reason keep them in the project's one error space.
 */
import { JunctionError, type ErrorCode } from '../../errors.js';

/** A frame that breaks a STOMP rule or a limit; the connection gets ERROR and is closed. */
export class StompError extends JunctionError {
  /** Extra ERROR headers (e.g. `version` when no version is shared). */
  readonly headers: ReadonlyArray<readonly [string, string]>;

  constructor(message: string, code: ErrorCode = 'JN_PROTOCOL', headers: ReadonlyArray<readonly [string, string]> = []) {
    super(code, REASONS[code] ?? 0x82, message);
    this.name = 'StompError';
    this.headers = headers;
  }
}

const REASONS: Partial<Record<ErrorCode, number>> = {
  JN_MALFORMED: 0x81,
  JN_PROTOCOL: 0x82,
  JN_UNSUPPORTED_VERSION: 0x84,
  JN_NOT_AUTHORIZED: 0x87,
  JN_BAD_CREDENTIALS: 0x86,
  JN_TOPIC_INVALID: 0x90,
  JN_PACKET_TOO_LARGE: 0x95,
  JN_QUOTA_EXCEEDED: 0x97,
  JN_RETAIN_NOT_SUPPORTED: 0x9a,
};

/** A frame the bytes cannot form (bad header line, bad escape, bad content-length). */
export function malformed(message: string): StompError {
  return new StompError(message, 'JN_MALFORMED');
}

/** A frame over one of the --stomp-max-* limits. */
export function tooLarge(message: string): StompError {
  return new StompError(message, 'JN_PACKET_TOO_LARGE');
}
