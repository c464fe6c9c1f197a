/**
 * An outbox row gives back exactly the records written into it (any target, key, headers and
 * value bytes, past the writer's first buffer too), and a truncated row is an error, never a
 * wrong record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OutRecord } from '../../src/bridges/backend.js';
import { readRow, RowWriter } from '../../src/bridges/outbox-row.js';

const record: fc.Arbitrary<OutRecord> = fc.record({
  to: fc.string({ unit: 'binary', maxLength: 300 }),
  key: fc.option(fc.string({ unit: 'binary', maxLength: 50 }), { nil: null }),
  value: fc.uint8Array({ maxLength: 3000 }).map((u) => Buffer.from(u)),
  headers: fc.option(fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 40 })), { minLength: 1, maxLength: 4 }), { nil: null }),
  at: fc.integer({ min: 0, max: 2 ** 47 }),
  rule: fc.integer({ min: 0, max: 65_535 }),
});

test('a row reads back as the records written, in order, turn after turn', () => {
  const writer = new RowWriter();
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 40 }), (records) => {
      for (const r of records) writer.add(r);
      assert.equal(writer.count, records.length);
      const row = writer.take();
      assert.equal(writer.count, 0);
      // Strings with lone surrogates come back as U+FFFD, as UTF-8 requires.
      const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
      assert.deepEqual(
        readRow(new Uint8Array(row.buffer, row.byteOffset, row.byteLength)),
        records.map((r) => ({ ...r, to: utf8(r.to), key: r.key === null ? null : utf8(r.key) })),
      );
    }),
    { numRuns: 200 },
  );
});

test('a truncated row is refused with the place', () => {
  const writer = new RowWriter();
  writer.add({ to: 'telemetry', key: 'dev-1', value: Buffer.from('hello'), headers: [['a', 'b']], at: 1, rule: 0 });
  const row = writer.take();
  for (let cut = 1; cut < row.length; cut++) assert.throws(() => readRow(row.subarray(0, cut)), RangeError);
});
