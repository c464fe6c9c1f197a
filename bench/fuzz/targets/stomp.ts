/**
 * Fuzz target for the STOMP frame parser. Input: byte 0 picks the header escaping (1.0, 1.1,
 * 1.2 by value mod 3) and a split point, the rest is a client byte stream. The stream is parsed
 * whole and again in two chunks split at that point: both must give the same frames and the
 * same StompError (the parser's typed refusal); anything else thrown is a crash.
 */
import { isDeepStrictEqual } from 'node:util';
import { Escaping, type StompFrame } from '../../../src/protocols/stomp/codec/frame.js';
import { FrameParser } from '../../../src/protocols/stomp/codec/parser.js';
import { StompError } from '../../../src/protocols/stomp/errors.js';
import { FuzzDivergence, type FuzzTarget } from '../target.js';

const LIMITS = { maxHeaders: 32, maxHeaderLength: 512, maxBody: 2048 };
const ESCAPINGS = [Escaping.None, Escaping.V11, Escaping.V12];

interface Outcome {
  frames: Array<{ command: string; headers: Array<[string, string]>; body: string }>;
  error: string | null;
}

function parse(chunks: Buffer[], escaping: Escaping): Outcome {
  const parser = new FrameParser(LIMITS);
  parser.escaping = escaping;
  const out: Outcome = { frames: [], error: null };
  const sink = (f: StompFrame): boolean => {
    out.frames.push({ command: f.command, headers: [...f.headers], body: f.body.toString('hex') });
    return true;
  };
  try {
    for (const c of chunks) parser.feed(c, sink);
  } catch (err) {
    if (!(err instanceof StompError)) throw err;
    out.error = err.code;
  }
  return out;
}

const f = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The STOMP parser, whole against split delivery. */
export const stompTarget: FuzzTarget = {
  name: 'stomp',
  maxInputSize: 4096,
  seeds(): Buffer[] {
    const frames = [
      'CONNECT\naccept-version:1.0,1.1,1.2\nhost:junction\nlogin:u\npasscode:p\nheart-beat:1000,1000\n\n\0',
      'STOMP\r\naccept-version:1.2\r\nhost:h\r\n\r\n\0',
      'SEND\ndestination:/topic/a.b\ncontent-type:text/plain\ncontent-length:5\n\nhello\0\n\n',
      'SEND\ndestination:/queue/q\nreceipt:9\n\nno length\0',
      'SEND\ndestination:/topic/x\\cy\\n\\\\\ncustom:\\r\n\nbody\0',
      'SUBSCRIBE\nid:0\ndestination:/topic/sensors/#\nack:client-individual\n\n\0',
      'UNSUBSCRIBE\nid:0\n\n\0',
      'ACK\nid:42\ntransaction:tx1\n\n\0',
      'NACK\nid:43\n\n\0',
      'BEGIN\ntransaction:tx1\n\n\0COMMIT\ntransaction:tx1\n\n\0ABORT\ntransaction:tx2\n\n\0',
      '\n\n\r\n',
      'DISCONNECT\nreceipt:77\n\n\0',
    ].map(f);
    const seeds: Buffer[] = [];
    for (let e = 0; e < 3; e++) {
      for (const fr of frames) seeds.push(Buffer.concat([Buffer.of(e + 3 * (fr.length >> 1)), fr]));
      seeds.push(Buffer.concat([Buffer.of(e), ...frames]));
    }
    return seeds;
  },
  run(input: Buffer): string {
    if (input.length === 0) return 'empty';
    const escaping = ESCAPINGS[input[0]! % 3]!;
    const stream = input.subarray(1);
    const split = stream.length === 0 ? 0 : Math.floor(input[0]! / 3) % (stream.length + 1);
    const whole = parse([stream], escaping);
    const parts = parse([stream.subarray(0, split), stream.subarray(split)], escaping);
    if (!isDeepStrictEqual(whole, parts)) {
      throw new FuzzDivergence(
        `split at ${split} of ${stream.length}: whole gives ${whole.frames.length} frames, error ${whole.error}; split gives ${parts.frames.length} frames, error ${parts.error}`,
      );
    }
    return `${whole.frames
      .map((x) => x.command)
      .slice(0, 6)
      .join(',')}|${whole.error ?? 'ok'}`;
  },
};
