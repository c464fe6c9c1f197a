/**
 * MQTT codec hot path: scanFrames over a 64 KiB chunk of small PUBLISH packets, decoding one
 * PUBLISH (from the scanner record and from raw bytes) and one PUBACK, and encoding one PUBLISH;
 * 3.1.1 and 5.0. Then the bytes each decode allocates (what the scavenges of a QoS 1 flow sweep).
 */
import { Bench } from 'tinybench';
import { decodePacket } from '../../src/protocols/mqtt/codec/decode.js';
import { decodePublishFromScan } from '../../src/protocols/mqtt/codec/decode-publish.js';
import { encodePublish } from '../../src/protocols/mqtt/codec/encode-publish.js';
import { SCAN_HEADER, SCAN_STRIDE, scanFrames } from '../../src/protocols/mqtt/codec/scanner.js';
import type { PublishFields } from '../../src/protocols/mqtt/codec/encode.js';
import type { ProtocolVersion } from '../../src/protocols/mqtt/codec/packets.js';
import { countAllocation } from '../lib/allocation.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

parseToolArgs(microSpec('codec'));

const CHUNK = 64 * 1024;

function fields(i: number, version: ProtocolVersion): PublishFields {
  return {
    topic: `fleet/r${i % 32}/v${i}/telemetry`,
    payload: Buffer.from(`{"t":${20 + (i % 10)},"s":${i}}`),
    qos: (i % 2) as 0 | 1,
    retain: false,
    dup: false,
    packetId: (i % 65535) + 1,
    properties: version === 5 ? { messageExpiryInterval: 60 } : undefined,
  };
}

/** A chunk of whole PUBLISH packets, at most 64 KiB, and how many it holds. */
function chunkOf(version: ProtocolVersion): { buf: Buffer; count: number } {
  const parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const p = encodePublish(version, fields(i, version));
    if (size + p.length > CHUNK) break;
    parts.push(p);
    size += p.length;
  }
  return { buf: Buffer.concat(parts), count: parts.length };
}

const bench = new Bench({ time: 1000 });
let sink = 0;
const chunkSizes = new Map<string, { bytes: number; packets: number }>();
/** Decodes whose allocation is measured after the timings: name -> one decode. */
const decodes = new Map<string, () => void>();
const PUBACK = Buffer.from([0x40, 0x02, 0x00, 0x07]);

for (const version of [4, 5] as const) {
  const { buf, count } = chunkOf(version);
  const out = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * (count + 1));
  scanFrames(buf, 0, buf.length, 1 << 20, version === 5, out);
  if (out[0] !== count || out[2] !== 0) throw new Error(`scan found ${out[0]} of ${count} packets, error ${out[2]}`);
  const one = encodePublish(version, fields(1, version));
  const f = fields(7, version);

  const scanName = `v${version} scanFrames 64 KiB (${count} PUBLISH)`;
  chunkSizes.set(scanName, { bytes: buf.length, packets: count });
  bench.add(scanName, () => {
    scanFrames(buf, 0, buf.length, 1 << 20, version === 5, out);
    sink += out[0];
  });
  bench.add(`v${version} decodePublishFromScan`, () => {
    sink += decodePublishFromScan(buf, out, 1, version).payload.length;
  });
  bench.add(`v${version} decodePacket PUBLISH`, () => {
    sink += (decodePacket(3, one[0] & 15, one, 0, one.length, version) as { payload: Buffer }).payload.length;
  });
  bench.add(`v${version} encodePublish`, () => {
    sink += encodePublish(version, f).length;
  });
  const puback = (): void => {
    sink += (decodePacket(4, 0, PUBACK, 0, PUBACK.length, version) as { packetId: number }).packetId;
  };
  bench.add(`v${version} decodePacket PUBACK`, puback);
  decodes.set(`v${version} decodePublishFromScan`, () => void (sink += decodePublishFromScan(buf, out, 1, version).payload.length));
  decodes.set(`v${version} decodePacket PUBLISH`, () => void (sink += (decodePacket(3, one[0] & 15, one, 0, one.length, version) as { payload: Buffer }).payload.length));
  decodes.set(`v${version} decodePacket PUBACK`, puback);
}

await bench.run();
console.table(bench.table());
for (const task of bench.tasks) {
  const size = chunkSizes.get(task.name);
  const hz = (task.result as { throughput?: { mean?: number } } | undefined)?.throughput?.mean;
  if (size !== undefined && typeof hz === 'number') {
    console.log(`${task.name}: ${((hz * size.bytes) / 1e9).toFixed(2)} GB/s, ${((hz * size.packets) / 1e6).toFixed(1)} M packets/s`);
  }
}
const ALLOCATION_RUNS = 1_000_000;
const allocation = [...decodes].map(([name, decode]) => {
  const stop = countAllocation();
  for (let i = 0; i < ALLOCATION_RUNS; i++) decode();
  return { decode: name, 'bytes allocated per decode': Number((stop() / ALLOCATION_RUNS).toFixed(1)) };
});
console.table(allocation);
if (sink === 0) console.log('');
