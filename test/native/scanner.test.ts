import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadNative } from '../../src/native/binding.js';
import { scanFrames as twinScan } from '../../src/protocols/mqtt/codec/scanner.js';
import { adaptiveScanner } from '../../src/native/scanner.js';

// These tests are about the addon: they fail (not skip) when it did not load.
const native = loadNative('on')!;
const scan = native.scanFrames;

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function packet(first: number, body: number[]): number[] {
  return [first, ...varint(body.length), ...body];
}

function publish(topic: string, qos: number, pid: number, payload: number[], props: number[] | null): number[] {
  const t = [...Buffer.from(topic)];
  const body = [t.length >> 8, t.length & 0xff, ...t];
  if (qos > 0) body.push(pid >> 8, pid & 0xff);
  if (props !== null) body.push(...varint(props.length), ...props);
  body.push(...payload);
  return packet(0x30 | (qos << 1), body);
}

function run(bytes: number[] | Uint8Array, opts: { start?: number; end?: number; max?: number; v5?: boolean; records?: number } = {}): Uint32Array {
  const buf = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  const out = new Uint32Array(4 + 10 * (opts.records ?? 16));
  scan(buf, opts.start ?? 0, opts.end ?? buf.length, opts.max ?? 1 << 20, opts.v5 ?? false, out);
  return out;
}

function record(out: Uint32Array, i: number): number[] {
  return Array.from(out.subarray(4 + i * 10, 4 + (i + 1) * 10));
}

test('reports every complete packet of a chunk with its PUBLISH fields', () => {
  const ping = packet(0xc0, []);
  const pub0 = publish('a/b', 0, 0, [1, 2, 3], null);
  const pub1 = publish('dev/1', 1, 0x1234, [9], null);
  const bytes = [...ping, ...pub0, ...pub1];
  const out = run(bytes);
  assert.deepEqual(Array.from(out.subarray(0, 4)), [3, bytes.length, 0, 0]);
  assert.deepEqual(record(out, 0), [12, 0, 0, 2, 2, 0, 0, 0, 0, 0]);
  const p0 = ping.length;
  assert.deepEqual(record(out, 1), [3, 0, p0, pub0.length, p0 + 2, p0 + 4, 3, 0, 0, 0]);
  const p1 = p0 + pub0.length;
  assert.deepEqual(record(out, 2), [3, 2, p1, pub1.length, p1 + 2, p1 + 4, 5, 0x1234, 0, 0]);
});

test('v5 PUBLISH reports the property span after the property length', () => {
  const pub = publish('t', 2, 7, [0xaa], [0x01, 0x01]);
  const out = run(pub, { v5: true });
  // header(2) + topic len(2) + 't' + pid(2) + prop len(1) -> props at 8, 2 bytes
  assert.deepEqual(record(out, 0), [3, 4, 0, pub.length, 2, 4, 1, 7, 8, 2]);
});

test('offsets are absolute when scanning from a non-zero start', () => {
  const junk = [0xff, 0xff, 0xff];
  const pub = publish('x', 0, 0, [], null);
  const out = run([...junk, ...pub], { start: 3 });
  assert.equal(out[0], 1);
  assert.equal(out[1], 3 + pub.length);
  assert.deepEqual(record(out, 0).slice(2, 7), [3, pub.length, 5, 7, 1]);
});

test('an incomplete trailing packet is left unconsumed', () => {
  const a = publish('a', 0, 0, [1], null);
  const b = publish('bbb', 1, 1, [1, 2, 3, 4], null);
  for (let cut = 1; cut < b.length; cut++) {
    const out = run([...a, ...b.slice(0, cut)]);
    assert.deepEqual(Array.from(out.subarray(0, 4)), [1, a.length, 0, 0], `cut at ${cut}`);
  }
});

test('remaining length: 3 continuation bytes wait for more, 4 are malformed', () => {
  assert.deepEqual(Array.from(run([0x30, 0x80, 0x80, 0x80]).subarray(0, 4)), [0, 0, 0, 0]);
  const good = packet(0xc0, []);
  const out = run([...good, 0x30, 0x80, 0x80, 0x80, 0x80]);
  assert.deepEqual(Array.from(out.subarray(0, 4)), [1, 2, 1, 2]);
});

test('packet too large is reported with its declared size before its bytes arrive', () => {
  const out = run([0x30, ...varint(1000)], { max: 500 });
  assert.deepEqual(Array.from(out.subarray(0, 4)), [0, 0, 2, 1003]);
});

test('malformed PUBLISH: topic, packet id and v5 property length running past the packet', () => {
  // topic length 10 in a 4-byte body
  assert.deepEqual(Array.from(run([0x30, 4, 0, 10, 1, 2]).subarray(0, 4)), [0, 0, 3, 0]);
  // QoS 1 without room for the packet id
  assert.deepEqual(Array.from(run([0x32, 3, 0, 1, 0x61]).subarray(0, 4)), [0, 0, 3, 0]);
  // v5 property length varint cut by the packet end; valid under 3.1.1
  const bytes = [0x30, 4, 0, 1, 0x61, 0x80];
  assert.deepEqual(Array.from(run(bytes, { v5: true }).subarray(0, 4)), [0, 0, 3, 0]);
  assert.deepEqual(Array.from(run(bytes, { v5: false }).subarray(0, 4)), [1, 6, 0, 0]);
});

test('stops when out has no room for another record', () => {
  const p = packet(0xc0, []);
  const bytes = [...p, ...p, ...p];
  const out = run(bytes, { records: 2 });
  assert.deepEqual(Array.from(out.subarray(0, 4)), [2, 4, 0, 0]);
});

test('wrong arguments throw an exception naming the argument', () => {
  const out = new Uint32Array(14);
  const buf = new Uint8Array(8);
  const call = (...args: unknown[]) => (scan as (...a: unknown[]) => void)(...args);
  assert.throws(() => call('nope', 0, 0, 10, false, out), { name: 'TypeError', message: /'buf'/ });
  assert.throws(() => call(buf, -1, 0, 10, false, out), { name: 'RangeError', message: /'start'/ });
  assert.throws(() => call(buf, 0, 1.5, 10, false, out), { name: 'RangeError', message: /'end'/ });
  assert.throws(() => call(buf, 0, 9, 10, false, out), { name: 'RangeError', message: /'end'/ });
  assert.throws(() => call(buf, 0, 8, '10', false, out), { name: 'TypeError', message: /'maxPacketSize'/ });
  assert.throws(() => call(buf, 0, 8, 10, 1, out), { name: 'TypeError', message: /'v5'/ });
  assert.throws(() => call(buf, 0, 8, 10, false, new Int32Array(14)), { name: 'TypeError', message: /'out'/ });
  assert.throws(() => call(buf, 0, 8, 10, false, new Uint32Array(3)), { name: 'RangeError', message: /'out'/ });
  assert.throws(() => call(buf, 0, 8), { name: 'TypeError', message: /expected 6 arguments/ });
  const shared = new ArrayBuffer(64);
  assert.throws(() => call(new Uint8Array(shared, 0, 16), 0, 16, 10, false, new Uint32Array(shared)), { message: /'out'.*share memory/ });
});

// ---- differential: native == TypeScript twin ----

const arbTopic = fc.array(fc.constantFrom('a', 'b', 'fleet', 'é', '$SYS', ''), { minLength: 1, maxLength: 4 }).map((levels) => levels.join('/'));

const arbPublish = fc
  .record({
    qos: fc.integer({ min: 0, max: 3 }),
    topic: arbTopic,
    pid: fc.integer({ min: 0, max: 65535 }),
    payload: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
    props: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
  })
  .map((p) => ({ p }));

const arbOther = fc
  .record({
    first: fc.integer({ min: 0, max: 255 }).filter((b) => b >> 4 !== 3),
    body: fc.oneof(
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }),
      fc.integer({ min: 120, max: 20000 }).map((n) => new Array<number>(n).fill(7)),
    ),
  })
  .map((o) => ({ o }));

const arbStream = fc.record({
  v5: fc.boolean(),
  items: fc.array(fc.oneof(arbPublish, arbOther), { maxLength: 12 }),
  mutations: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  records: fc.integer({ min: 0, max: 6 }),
  max: fc.oneof(fc.constant(1 << 20), fc.integer({ min: 2, max: 400 })),
  lead: fc.integer({ min: 0, max: 5 }),
});

function encodeStream(v5: boolean, items: ({ p: { qos: number; topic: string; pid: number; payload: number[]; props: number[] } } | { o: { first: number; body: number[] } })[]): number[] {
  const bytes: number[] = [];
  for (const it of items) {
    if ('p' in it) bytes.push(...publish(it.p.topic, it.p.qos, it.p.pid, it.p.payload, v5 ? it.p.props : null));
    else bytes.push(...packet(it.o.first, it.o.body));
  }
  return bytes;
}

/** Runs both implementations on the same input; returns the native result after asserting equality. */
function both(buf: Uint8Array, start: number, end: number, max: number, v5: boolean, records: number): Uint32Array {
  const a = new Uint32Array(4 + 10 * records).fill(0xdeadbeef);
  const b = new Uint32Array(4 + 10 * records).fill(0xdeadbeef);
  scan(buf, start, end, max, v5, a);
  twinScan(buf, start, end, max, v5, b);
  assert.deepEqual(Array.from(a), Array.from(b));
  return a;
}

test('differential: chunked, mutated packet streams scan identically to the twin', () => {
  fc.assert(
    fc.property(arbStream, (s) => {
      const stream = encodeStream(s.v5, s.items);
      for (const [at, value] of s.mutations) if (stream.length > 0) stream[at % stream.length] = value;
      const cuts = [...new Set(s.cuts.map((c) => (stream.length === 0 ? 0 : c % stream.length)))].sort((x, y) => x - y);
      let carry: number[] = [];
      let prev = 0;
      for (const cut of [...cuts, stream.length]) {
        // Each read: the carried partial frame plus the new chunk, after `lead` bytes of other data.
        const chunk = [...new Array<number>(s.lead).fill(0xee), ...carry, ...stream.slice(prev, cut)];
        prev = cut;
        const buf = Uint8Array.from(chunk);
        let pos = s.lead;
        for (;;) {
          const out = both(buf, pos, buf.length, s.max, s.v5, s.records);
          if (out[2] !== 0) return;
          const stuck = out[1] === pos;
          pos = out[1];
          if (out[0] === 0 || stuck || pos === buf.length) break;
        }
        carry = chunk.slice(pos);
      }
    }),
    { numRuns: 400 },
  );
});

test('differential: random bytes scan identically to the twin', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.integer({ min: 1, max: 300 }), (buf, v5, max) => {
      both(buf, 0, buf.length, max, v5, 8);
    }),
    { numRuns: 1000 },
  );
});

test('differential: the adaptive scanner equals the twin on short, long and partial ranges', () => {
  const adaptive = adaptiveScanner(native);
  fc.assert(
    fc.property(arbStream, fc.integer({ min: 0, max: 3000 }), (s, extra) => {
      const stream = encodeStream(s.v5, s.items);
      // A long run of PINGREQs makes ranges past ADAPTIVE_MIN_BYTES common.
      for (let i = 0; i < extra; i++) stream.push(0xc0, 0);
      for (const [at, value] of s.mutations) if (stream.length > 0) stream[at % stream.length] = value;
      const buf = Uint8Array.from(stream);
      for (const end of [buf.length, Math.floor(buf.length / 2), Math.max(0, buf.length - 1)]) {
        const a = new Uint32Array(4 + 10 * 300).fill(7);
        const b = new Uint32Array(4 + 10 * 300).fill(7);
        adaptive(buf, 0, end, s.max, s.v5, a);
        twinScan(buf, 0, end, s.max, s.v5, b);
        assert.deepEqual(Array.from(a), Array.from(b));
      }
    }),
    { numRuns: 200 },
  );
});

test('differential: v5 property lengths around the packet end', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 6 }),
      fc.integer({ min: -3, max: 3 }),
      fc.integer({ min: 0, max: 6 }),
      (qos, props, delta, payload) => {
        const bytes = publish('t/x', qos, 9, new Array<number>(payload).fill(1), props);
        // Rewrite the property length varint (one byte here) to claim `delta` more bytes than
        // the packet holds after it.
        const at = 2 + 2 + 3 + (qos > 0 ? 2 : 0);
        const room = bytes.length - at - 1;
        const claimed = room + delta;
        if (claimed < 0 || claimed > 127) return;
        bytes[at] = claimed;
        both(Uint8Array.from(bytes), 0, bytes.length, 1 << 20, true, 4);
      },
    ),
    { numRuns: 500 },
  );
  // The exact edge: properties ending one byte past the packet are malformed.
  const bytes = publish('t', 0, 0, [], [1, 2]);
  bytes[bytes.length - 3] = 3;
  assert.deepEqual(Array.from(run(bytes, { v5: true }).subarray(0, 4)), [0, 0, 3, 0]);
});
