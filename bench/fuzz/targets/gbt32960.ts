/**
 * Fuzz target for the GB/T 32960 codec: the frame scanner (## start, 24-byte header, length,
 * BCC) over a stream and the data-unit decoder of every frame found. decodeDataUnit promises
 * never to throw (faults become an Error field), and the scanner never throws, so any exception
 * is a crash; the scanner must also always make progress.
 */
import { FrameScan, ScanStatus, encodeFrame, scanFrame } from '../../../src/protocols/gbt32960/codec/frame.js';
import { decodeDataUnit } from '../../../src/protocols/gbt32960/codec/data-unit.js';
import { HEADER_SIZE, OFFSET_COMMAND } from '../../../src/protocols/gbt32960/codec/constants.js';
import type { FuzzTarget } from '../target.js';

const MAX_FRAME = 4096;
const VIN = 'LJU1234567890ABCD';
const TIME = [24, 1, 2, 3, 4, 5];
const out = new FrameScan();

/** The GB/T 32960 scanner and data-unit decoder. */
export const gbt32960Target: FuzzTarget = {
  name: 'gbt32960',
  maxInputSize: 4096,
  seeds(): Buffer[] {
    const login = Buffer.from([...TIME, 0, 1, ...Buffer.from('89860000000000000001'), 1, 4, ...Buffer.from('BAT1')]);
    const logout = Buffer.from([...TIME, 0, 1]);
    // Realtime: vehicle data (0x01, 20 bytes), then an extreme-values block (0x06, 14 bytes).
    const vehicle = [0x01, 1, 3, 1, 0x00, 0x64, 0x00, 0x00, 0x27, 0x10, 0x0f, 0xa0, 0x27, 0x10, 0x50, 1, 0x0f, 0x01, 0x00, 0x00, 0x00];
    const extreme = [0x06, 1, 2, 0x0f, 0xa0, 1, 3, 0x0e, 0x10, 1, 4, 0x50, 1, 5, 0x40];
    const realtime = Buffer.from([...TIME, ...vehicle, ...extreme]);
    const frames = [
      encodeFrame(0x01, 0xfe, VIN, 1, login),
      encodeFrame(0x02, 0xfe, VIN, 1, realtime),
      encodeFrame(0x03, 0xfe, VIN, 1, realtime),
      encodeFrame(0x04, 0xfe, VIN, 1, logout),
      encodeFrame(0x07, 0xfe, VIN, 1, null),
      encodeFrame(0x08, 0xfe, VIN, 1, null),
      encodeFrame(0x05, 0xfe, VIN, 1, Buffer.from([...TIME, 0, 1, ...Buffer.from('user\0\0\0\0\0\0\0\0'), ...Buffer.alloc(20, 0x31), 1])),
    ];
    return [...frames, Buffer.concat(frames), Buffer.concat([Buffer.from('garbage#'), ...frames])];
  },
  run(input: Buffer): string {
    const labels: string[] = [];
    let pos = 0;
    while (pos < input.length) {
      scanFrame(input, pos, input.length, MAX_FRAME, out);
      if (out.status === ScanStatus.NeedMore) break;
      if (out.resume <= pos) throw new Error(`scanFrame made no progress at ${pos} (status ${out.status}, resume ${out.resume})`);
      if (out.status === ScanStatus.Frame) {
        const command = input[out.frameStart + OFFSET_COMMAND]!;
        const unit = decodeDataUnit(command, input.subarray(out.frameStart + HEADER_SIZE, out.frameEnd - 1), (command & 1) === 0);
        labels.push(`${command}:${Object.keys(unit).length}${'Error' in unit ? 'E' : ''}`);
      } else {
        labels.push(`err:${out.error.replace(/[0-9]+/g, '#').slice(0, 30)}`);
      }
      pos = out.resume;
    }
    return labels.slice(0, 6).join(' ');
  },
};
