/**
 * The Kafka producer thread holds batches ready behind the one Kafka is answering; order rests
 * on its promise: once a batch fails, nothing posted behind it is sent (they are answered "not
 * sent"), not even after Kafka is back, until a batch marked `resume` arrives, which the bridge
 * posts only after every earlier batch was answered and taken back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { packBatch } from '../../src/bridges/backends/kafka.js';
import type { ProducerBatch, ProducerReply, ProducerWorkerSetup } from '../../src/bridges/backends/kafka-producer-worker.js';
import { KafkaMock } from '../../bench/lib/backend-services.js';
import { readKafka } from './helpers.js';

let kafka: KafkaMock;
before(async () => {
  kafka = await KafkaMock.start();
});
after(() => kafka.stop());

test('after a failed batch the producer thread sends nothing posted behind it until a batch marked resume', async (t) => {
  const topic = `pipeline-${process.pid}`;
  await kafka.createTopic(topic, 1);
  const setup: ProducerWorkerSetup = { clientId: 'pipeline-test', brokers: [kafka.bootstrap], connectTimeout: 500, requestTimeout: 2000 };
  const worker = new Worker(new URL('../../src/bridges/backends/kafka-producer-worker.js', import.meta.url), { workerData: setup });
  t.after(() => worker.terminate());
  const replies = new Map<number, (reply: ProducerReply) => void>();
  worker.on('message', (reply: ProducerReply) => replies.get(reply.id)?.(reply));
  const post = (id: number, values: string[], resume: boolean): Promise<ProducerReply> => {
    const batch: ProducerBatch = packBatch(
      values.map((v) => ({ to: topic, key: 'k', value: Buffer.from(v), headers: null, at: 0, rule: 0 })),
      resume,
    );
    batch.id = id;
    const answer = new Promise<ProducerReply>((resolve) => replies.set(id, resolve));
    worker.postMessage(batch, [batch.bytes.buffer as ArrayBuffer]);
    return answer;
  };

  assert.equal((await post(1, ['first'], false)).ok, true, 'Kafka up: sent');
  await kafka.down();
  // Three batches posted together, as the bridge does: the first fails, the others wait behind it.
  const [failed, second, third] = await Promise.all([post(2, ['lost-1'], false), post(3, ['lost-2'], false), post(4, ['lost-3'], false)]);
  assert.equal(failed.ok, false);
  assert.doesNotMatch(failed.ok ? '' : failed.message, /not sent/);
  for (const r of [second, third]) assert.deepEqual(r.ok ? null : r.message, 'not sent: an earlier batch failed');
  await kafka.up();
  const stale = await post(5, ['stale'], false);
  assert.deepEqual(stale.ok ? null : stale.message, 'not sent: an earlier batch failed', 'Kafka is back, but the bridge has not taken the failed batches back yet');
  assert.equal((await post(6, ['again'], true)).ok, true, 'resume: sending again');
  const records = await readKafka(kafka.bootstrap, topic, 2);
  assert.deepEqual(
    records.map((r) => r.value.toString()),
    ['first', 'again'],
  );
});
