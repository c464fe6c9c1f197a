/**
 * Fuzz target for the JT/T 808 codec: the stream scanner (7E framing, 7D escapes), frame
 * checks (parseFrame) and body decoding into JSON (bodyJson). Input: byte 0 is a split point,
 * the rest a terminal's byte stream, scanned whole and in two chunks (same frames and faults
 * expected). Jt808BodyError is the typed refusal; anything else thrown is a crash.
 */
import { isDeepStrictEqual } from 'node:util';
import { FrameFault, Jt808BodyError } from '../../../src/protocols/jt808/codec/errors.js';
import { FrameScanner, sealFrame } from '../../../src/protocols/jt808/codec/frame.js';
import { bodyJson, parseFrame } from '../../../src/protocols/jt808/codec/message.js';
import { FuzzDivergence, type FuzzTarget } from '../target.js';

const MAX_FRAME = 2048;

function scan(chunks: Buffer[]): string[] {
  const events: string[] = [];
  const scanner = new FrameScanner(MAX_FRAME);
  const sink = {
    onFrame(frame: Buffer, length: number): boolean {
      const p = parseFrame(frame, length);
      let body = '';
      if (p.header !== null && p.fault === 0) {
        try {
          body = JSON.stringify(bodyJson(p.header, frame, p.bodyStart, p.bodyEnd));
        } catch (err) {
          if (!(err instanceof Jt808BodyError)) throw err;
          body = 'body-error';
        }
      }
      events.push(`frame ${frame.toString('hex', 0, length)} fault ${p.fault} ${body}`);
      return true;
    },
    onFrameFault(fault: number, bytes: number): boolean {
      // Garbage between frames is reported per chunk: a split may cut one run in two.
      const last = events.length - 1;
      const m = fault === FrameFault.Garbage && last >= 0 ? /^fault 6 (\d+)$/.exec(events[last]!) : null;
      if (m !== null) events[last] = `fault 6 ${Number(m[1]) + bytes}`;
      else events.push(`fault ${fault} ${bytes}`);
      return true;
    },
  };
  for (const c of chunks) scanner.push(c, sink);
  return events;
}

/** A 2013 or 2019 frame: header + body, checksum, escaped and delimited. */
function frame(msgId: number, body: Buffer, is2019: boolean, sn: number): Buffer {
  const attr = body.length | (is2019 ? 0x4000 : 0);
  const head = is2019
    ? Buffer.concat([Buffer.from([msgId >> 8, msgId & 0xff, attr >> 8, attr & 0xff, 1]), Buffer.from('00000000013912345678', 'hex'), Buffer.from([sn >> 8, sn & 0xff])])
    : Buffer.concat([Buffer.from([msgId >> 8, msgId & 0xff, attr >> 8, attr & 0xff]), Buffer.from('013912345678', 'hex'), Buffer.from([sn >> 8, sn & 0xff])]);
  const content = Buffer.concat([head, body]);
  return sealFrame(content, content.length);
}

/** The JT/T 808 scanner and decoders, whole against split delivery. */
export const jt808Target: FuzzTarget = {
  name: 'jt808',
  maxInputSize: 4096,
  seeds(): Buffer[] {
    const location = Buffer.from('00000000000c00030158f4a006cb7ee8001e00960087' + '240101120000' + '01040000000a', 'hex');
    const register = Buffer.from('002c012c37303131314a54383038000000000000000000000000000000003132333435363701d4c1423132333435', 'hex');
    const frames = [
      frame(0x0002, Buffer.alloc(0), false, 1), // heartbeat
      frame(0x0100, register, false, 2), // registration
      frame(0x0102, Buffer.from('61757468636f6465', 'hex'), false, 3), // authentication
      frame(0x0200, location, false, 4), // location report
      frame(0x0200, location, true, 5),
      frame(0x0001, Buffer.from('0001810000', 'hex'), false, 6), // general response
      frame(0x0704, Buffer.concat([Buffer.from('000200', 'hex'), Buffer.from([0, location.length]), location, Buffer.from([0, location.length]), location]), false, 7),
      frame(0x0200, Buffer.from('7e7d01027d', 'hex'), false, 8), // escapes inside
    ];
    return [...frames.map((fr) => Buffer.concat([Buffer.of(fr.length >> 1), fr])), Buffer.concat([Buffer.of(40), ...frames])];
  },
  run(input: Buffer): string {
    if (input.length === 0) return 'empty';
    const stream = input.subarray(1);
    const split = input[0]! % (stream.length + 1);
    const whole = scan([stream]);
    const parts = scan([stream.subarray(0, split), stream.subarray(split)]);
    if (!isDeepStrictEqual(whole, parts)) {
      const at = whole.findIndex((e, i) => e !== parts[i]);
      throw new FuzzDivergence(`split at ${split}: event ${at} is '${(whole[at] ?? 'none').slice(0, 80)}' whole but '${(parts[at] ?? 'none').slice(0, 80)}' split`);
    }
    return whole
      .map((e) =>
        e
          .replace(/ [0-9a-f]{16,}/, '')
          .replace(/\{.*$/, '{}')
          .slice(0, 24),
      )
      .slice(0, 6)
      .join('|');
  },
};
