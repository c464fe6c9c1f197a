/**
 * The Kafka bridge's partitioner remembers the partition of each key; it must place every key
 * where kafkajs's default partitioner (murmur2, as the Java client) does, so records of a device
 * stay in the partition other producers and earlier runs used, and follow a change of the
 * partition count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Partitioners, type PartitionerArgs, type PartitionMetadata } from 'kafkajs';
import { keyedPartitioner } from '../../src/bridges/backends/kafka-producer-worker.js';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: i % 3, replicas: [i % 3], isr: [i % 3], partitionErrorCode: 0, offlineReplicas: [] }));

test('a remembered key goes to the partition of the default partitioner, also after the partition count changed', () => {
  const reference = Partitioners.DefaultPartitioner();
  const mine = keyedPartitioner();
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom(1, 3, 4, 7, 12), fc.constantFrom('t1', 't2'), (key, n, topic) => {
      const args: PartitionerArgs = { topic, partitionMetadata: metadata(n), message: { key, value: 'x' } };
      const expected = reference(args);
      assert.equal(mine(args), expected);
      assert.equal(mine(args), expected, 'the second time, from memory');
    }),
    { numRuns: 500 },
  );
  // The same keys again while the topic grows from 3 to 4 to 7 partitions.
  for (const n of [3, 4, 7]) {
    for (let d = 0; d < 50; d++) {
      const args: PartitionerArgs = { topic: 'grows', partitionMetadata: metadata(n), message: { key: `device-${d}`, value: 'x' } };
      assert.equal(mine(args), reference(args), `device-${d} with ${n} partitions`);
    }
  }
});

test('records without a key, or with a partition chosen, are left to the default partitioner', () => {
  const mine = keyedPartitioner();
  const partitionMetadata = metadata(4);
  assert.equal(mine({ topic: 't', partitionMetadata, message: { key: 'k', value: 'x', partition: 3 } }), 3);
  const spread = new Set(Array.from({ length: 8 }, () => mine({ topic: 't', partitionMetadata, message: { key: null, value: 'x' } })));
  assert.equal(spread.size, 4, 'keyless records round robin over the partitions');
});
