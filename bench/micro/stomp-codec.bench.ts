/**
 * STOMP codec cost: parsing SEND frames (one per call, and a 64 KiB chunk of them), and the
 * per-subscriber MESSAGE head.
 */
import { Bench } from 'tinybench';
import { FrameParser } from '../../src/protocols/stomp/codec/parser.js';
import { Escaping, type StompFrame } from '../../src/protocols/stomp/codec/frame.js';
import { encodeFrame } from '../../src/protocols/stomp/codec/encode.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

parseToolArgs(microSpec('stomp-codec'));

const limits = { maxHeaders: 64, maxHeaderLength: 8192, maxBody: 1 << 20 };
const payload = Buffer.alloc(64, 0x61);
const send = encodeFrame(
  'SEND',
  [
    ['destination', '/topic/sensors.kitchen.temperature'],
    ['content-type', 'application/json'],
    ['content-length', String(payload.length)],
    ['x-unit', 'celsius'],
  ],
  payload,
  Escaping.V12,
);
const parts: Buffer[] = [];
for (let size = 0; size + send.length <= 65536; size += send.length) parts.push(send);
const chunk = Buffer.concat(parts);
const perChunk = parts.length;

const sink = (_f: StompFrame): boolean => true;
const parser = new FrameParser(limits);
parser.escaping = Escaping.V12;

const bench = new Bench({ time: 1000 });
bench
  .add('parse one SEND (64 B body, 4 headers)', () => parser.feed(send, sink))
  .add(`parse a 64 KiB chunk (${perChunk} SENDs)`, () => parser.feed(chunk, sink))
  .add('encode a RECEIPT', () => encodeFrame('RECEIPT', [['receipt-id', 'r-123']], null, Escaping.V12));
await bench.run();
console.table(bench.table());
const chunkTask = bench.tasks[1]!;
const hz = (chunkTask.result as { throughput?: { mean?: number } } | undefined)?.throughput?.mean ?? 0;
console.log(`SEND frames parsed per second in 64 KiB chunks: ${Math.round(hz * perChunk).toLocaleString('en')}`);
