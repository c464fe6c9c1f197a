/**
 * JT/T 808 codec cost in TypeScript, for deciding whether escape/unescape and the XOR check go
 * to the Rust module: per 0200 frame (with extras, one escape) and over a 64 KiB chunk of them;
 * plus the whole uplink decode (scan, check, header, body, EMQX JSON).
 */
import { Bench } from 'tinybench';
import { FrameScanner, sealFrame, unescapeInto, xorChecksum } from '../../src/protocols/jt808/codec/frame.js';
import { headerJson } from '../../src/protocols/jt808/codec/header.js';
import { bodyJson, encodeMessage, parseFrame } from '../../src/protocols/jt808/codec/message.js';
import { sampleLocation, terminalHeader } from '../lib/jt808-terminal.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

parseToolArgs(microSpec('jt808-codec'));

const frame = encodeMessage(terminalHeader('013912345678', false, 0x0200, 0x7e), sampleLocation());
const escaped = frame.subarray(1, frame.length - 1);
const content = Buffer.alloc(escaped.length);
const contentLength = unescapeInto(escaped, 0, escaped.length, content);
const parts: Buffer[] = [];
for (let size = 0; size + frame.length <= 65536; size += frame.length) parts.push(frame);
const chunk = Buffer.concat(parts);
const out = Buffer.alloc(chunk.length);

let sink = 0;
const counter = {
  onFrame: () => {
    sink++;
    return true;
  },
  onFrameFault: () => true,
};
const decoder = {
  onFrame(f: Buffer, n: number): boolean {
    const p = parseFrame(f, n);
    sink += JSON.stringify({ header: headerJson(p.header!), body: bodyJson(p.header!, f, p.bodyStart, p.bodyEnd) }).length;
    return true;
  },
  onFrameFault: () => true,
};
const scanner = new FrameScanner(4096);

const bench = new Bench({ time: 1000 });
bench.add(`xorChecksum (${contentLength - 1} bytes)`, () => {
  sink += xorChecksum(content, 0, contentLength - 1);
});
bench.add(`unescapeInto (${escaped.length} bytes)`, () => {
  sink += unescapeInto(escaped, 0, escaped.length, out);
});
bench.add(`sealFrame: check + escape (${contentLength - 1} bytes)`, () => {
  sink += sealFrame(content, contentLength - 1).length;
});
bench.add(`xorChecksum 64 KiB`, () => {
  sink += xorChecksum(chunk, 0, chunk.length);
});
bench.add(`FrameScanner.push 64 KiB (${parts.length} frames, unescape only)`, () => {
  scanner.push(chunk, counter);
});
bench.add(`full uplink decode 64 KiB (${parts.length} frames -> JSON)`, () => {
  scanner.push(chunk, decoder);
});

await bench.run();
console.table(bench.table());
for (const task of bench.tasks) {
  const hz = (task.result as { throughput?: { mean?: number } } | undefined)?.throughput?.mean ?? 0;
  if (task.name.includes('64 KiB')) console.log(`${task.name}: ${((hz * chunk.length) / 1e6).toFixed(0)} MB/s, ${((hz * parts.length) / 1e6).toFixed(2)} M frames/s`);
}
if (sink === 0) console.log('');
