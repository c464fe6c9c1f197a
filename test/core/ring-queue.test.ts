import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RingQueue } from '../../src/core/ring-queue.js';

test('behaves as a FIFO array under any sequence of push, unshift, shift and filter', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('push'), v: fc.integer() }),
          fc.record({ op: fc.constant('unshift'), v: fc.integer() }),
          fc.record({ op: fc.constant('shift'), v: fc.constant(0) }),
          fc.record({ op: fc.constant('filterOdd'), v: fc.constant(0) }),
        ),
        { maxLength: 200 },
      ),
      (ops) => {
        const q = new RingQueue<number>(2);
        const model: number[] = [];
        for (const { op, v } of ops) {
          if (op === 'push') {
            q.push(v);
            model.push(v);
          } else if (op === 'unshift') {
            q.unshift(v);
            model.unshift(v);
          } else if (op === 'shift') {
            assert.equal(q.shift(), model.shift());
          } else {
            const removed = q.filter((x) => x % 2 === 0);
            const kept = model.filter((x) => x % 2 === 0);
            assert.equal(removed, model.length - kept.length);
            model.splice(0, model.length, ...kept);
          }
          assert.equal(q.length, model.length);
          assert.equal(q.peek(), model[0]);
        }
        assert.deepEqual([...q], model);
      },
    ),
  );
});
