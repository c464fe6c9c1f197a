/**
 * Native frame scanner vs the TypeScript twin in one run, plus the bare N-API call cost.
 * Needs the addon: make -C native.
 *
 * Workloads: a 64 KiB chunk of small PUBLISH packets (3.1.1 and 5.0; device topics, 32-byte
 * payloads, QoS 0 and 1 mixed), scanned whole in one call; and one 256 KiB PUBLISH arriving in
 * 16 KiB chunks, scanned after each chunk as the read path does (carry buffer grows, the last
 * call completes it).
 */
import { Bench } from 'tinybench';
import { scanFrames as twinScan } from '../../src/protocols/mqtt/codec/scanner.js';
import { loadNative } from '../../src/native/binding.js';
import { adaptiveScanner } from '../../src/native/scanner.js';
import { encodePublish } from '../../src/protocols/mqtt/codec/encode-publish.js';
import { parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

parseToolArgs(microSpec('native-scanner'));

const native = loadNative('on')!;
const nativeScan = native.scanFrames;
const adaptiveScan = adaptiveScanner(native);

/** A PUBLISH with a `payloadLength`-byte payload, encoded by the project's codec. */
function publish(topic: string, qos: number, pid: number, payloadLength: number, v5: boolean): Uint8Array {
  const payload = Buffer.alloc(payloadLength);
  for (let i = 0; i < payloadLength; i++) payload[i] = i & 0xff;
  return encodePublish(v5 ? 5 : 4, { topic, payload, qos: qos as 0 | 1 | 2, retain: false, dup: false, packetId: qos > 0 ? pid : 0 });
}

/** Complete packets filling (at most) `size` bytes. */
function smallChunk(size: number, v5: boolean): { buf: Uint8Array; packets: number } {
  const parts: Uint8Array[] = [];
  let length = 0;
  for (let i = 0; ; i++) {
    const p = publish(`fleet/r${i % 32}/v${i}/telemetry`, i % 2, (i % 65535) + 1, 32, v5);
    if (length + p.length > size) break;
    parts.push(p);
    length += p.length;
  }
  return { buf: Buffer.concat(parts), packets: parts.length };
}

const results: Record<string, number> = {};

async function run(): Promise<void> {
  const bench = new Bench({ time: 500, warmupTime: 100 });
  // 1000 calls per sample so tinybench's own per-sample cost does not swamp a ~20 ns call.
  const noop = native.noop;
  bench.add('N-API call overhead (noop)', () => {
    for (let i = 0; i < 1000; i++) noop();
  });
  bench.add('JS empty function call', () => {
    for (let i = 0; i < 1000; i++) emptyFunction(i);
  });

  for (const v5 of [false, true]) {
    const { buf, packets } = smallChunk(65536, v5);
    const outN = new Uint32Array(4 + 10 * packets);
    const outT = new Uint32Array(4 + 10 * packets);
    const tag = v5 ? '5.0' : '3.1.1';
    bench.add(`native 64 KiB small PUBLISH ${tag}`, () => nativeScan(buf, 0, buf.length, 1 << 20, v5, outN));
    bench.add(`twin 64 KiB small PUBLISH ${tag}`, () => twinScan(buf, 0, buf.length, 1 << 20, v5, outT));
    bench.add(`adaptive 64 KiB small PUBLISH ${tag}`, () => adaptiveScan(buf, 0, buf.length, 1 << 20, v5, outN));
    nativeScan(buf, 0, buf.length, 1 << 20, v5, outN);
    twinScan(buf, 0, buf.length, 1 << 20, v5, outT);
    if (outN[0] !== packets || outT[0] !== packets) throw new Error(`expected ${packets} packets`);
    results[`packets ${tag}`] = packets;
  }

  const big = publish('fleet/r1/v1/firmware', 1, 1, 256 * 1024, false);
  const out = new Uint32Array(14);
  const chunk = 16 * 1024;
  const split = (scan: typeof twinScan) => () => {
    for (let have = chunk; ; have += chunk) {
      const end = Math.min(have, big.length);
      scan(big, 0, end, 1 << 20, false, out);
      if (end === big.length) break;
    }
  };
  bench.add('native 256 KiB PUBLISH in 16 KiB chunks', split(nativeScan));
  bench.add('twin 256 KiB PUBLISH in 16 KiB chunks', split(twinScan));
  bench.add('adaptive 256 KiB PUBLISH in 16 KiB chunks', split(adaptiveScan));

  // One small packet per read (a quiet device): the per-call overhead is all there is.
  const one = publish('fleet/r1/v1/telemetry', 1, 1, 32, false);
  bench.add('native single small PUBLISH', () => nativeScan(one, 0, one.length, 1 << 20, false, out));
  bench.add('twin single small PUBLISH', () => twinScan(one, 0, one.length, 1 << 20, false, out));
  bench.add('adaptive single small PUBLISH', () => adaptiveScan(one, 0, one.length, 1 << 20, false, out));

  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result;
    results[task.name] = r !== undefined && 'throughput' in r ? r.throughput.mean : 0;
  }
}

let sink = 0;
function emptyFunction(i: number): void {
  sink ^= i;
}

await run();
const rows: Record<string, string | number>[] = [];
const ns = (name: string) => (1e6 / results[name]).toFixed(1);
rows.push({ case: 'N-API call overhead (noop)', 'ns/call': ns('N-API call overhead (noop)'), 'JS empty call ns': ns('JS empty function call') });
if (sink === 0.5) console.log(sink);
for (const tag of ['3.1.1', '5.0']) {
  const n = results[`native 64 KiB small PUBLISH ${tag}`];
  const t = results[`twin 64 KiB small PUBLISH ${tag}`];
  const packets = results[`packets ${tag}`];
  rows.push({
    case: `64 KiB chunk, ${packets} small PUBLISH, ${tag}`,
    'native packets/s': Math.round(n * packets),
    'twin packets/s': Math.round(t * packets),
    'native MB/s': Math.round((n * 65536) / 1e6),
    'twin MB/s': Math.round((t * 65536) / 1e6),
    'native/twin': (n / t).toFixed(2),
    'adaptive/twin': (results[`adaptive 64 KiB small PUBLISH ${tag}`] / t).toFixed(2),
  });
}
{
  const n = results['native 256 KiB PUBLISH in 16 KiB chunks'];
  const t = results['twin 256 KiB PUBLISH in 16 KiB chunks'];
  const a = results['adaptive 256 KiB PUBLISH in 16 KiB chunks'];
  rows.push({
    case: '256 KiB PUBLISH, 17 scans (16 KiB chunks)',
    'native ns/packet': (1e9 / n).toFixed(0),
    'twin ns/packet': (1e9 / t).toFixed(0),
    'native/twin': (n / t).toFixed(2),
    'adaptive/twin': (a / t).toFixed(2),
  });
}
{
  const n = results['native single small PUBLISH'];
  const t = results['twin single small PUBLISH'];
  const a = results['adaptive single small PUBLISH'];
  rows.push({
    case: 'one small PUBLISH per call',
    'native ns/packet': (1e9 / n).toFixed(0),
    'twin ns/packet': (1e9 / t).toFixed(0),
    'native/twin': (n / t).toFixed(2),
    'adaptive/twin': (a / t).toFixed(2),
  });
}
console.log('Frame scanner, native vs TypeScript twin (same run)');
console.table(rows);
