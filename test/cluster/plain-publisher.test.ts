/**
 * The plain publisher writes PUBs with cached control lines straight into nats.js's outbound
 * buffer: through a real nats-server, a NATS subscriber gets exactly what nc.publish would have
 * sent (subject, payload, order), for empty, small, large and non-ASCII subjects and payloads;
 * a payload above max_payload throws as nc.publish does; a closed connection falls back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as natsConnect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { PlainPublisher } from '../../src/cluster/plain-publisher.js';

let nats: ServiceProcess;
let pub: NatsConnection;
let sub: NatsConnection;

before(async () => {
  nats = await ServiceProcess.nats();
  const url = `nats://127.0.0.1:${nats.port}`;
  [pub, sub] = await Promise.all([natsConnect({ servers: url }), natsConnect({ servers: url })]);
});

after(async () => {
  await Promise.all([pub?.close(), sub?.close()]);
  await nats?.stop();
});

test('what a NATS subscriber gets is what nc.publish would have sent, in order', async () => {
  const cases: Array<[string, Buffer]> = [
    ['plain.a', Buffer.from('hello')],
    ['plain.a', Buffer.alloc(0)],
    ['plain.温度.b', Buffer.from('ünïcode payload')],
    ['plain.big', Buffer.alloc(200_000, 7)],
    ['plain.a', Buffer.from('again, cached prefix and length')],
  ];
  const got: Array<[string, Buffer]> = [];
  const done = new Promise<void>((resolve) => {
    sub.subscribe('plain.>', {
      callback: (_err, m: Msg) => {
        got.push([m.subject, Buffer.from(m.data)]);
        if (got.length === cases.length) resolve();
      },
    });
  });
  await sub.flush();
  const publisher = new PlainPublisher();
  const before = { msgs: pub.stats().outMsgs, bytes: pub.stats().outBytes };
  for (const [subject, payload] of cases) publisher.publish(pub, subject, payload);
  await pub.flush();
  await done;
  assert.deepEqual(got, cases);
  assert.deepEqual(publisher.counts, { direct: cases.length, fallback: 0 }, "through nats.js's protocol handler, not nc.publish");
  assert.equal(pub.stats().outMsgs - before.msgs, cases.length, "nats.js's counters count them");
  assert.equal(
    pub.stats().outBytes - before.bytes,
    cases.reduce((n, [, p]) => n + p.length, 0),
  );
});

test('above max_payload it throws as nc.publish does; a closed connection goes through nc.publish and throws its error', async () => {
  const publisher = new PlainPublisher();
  const max = pub.info!.max_payload;
  assert.throws(() => publisher.publish(pub, 'plain.huge', Buffer.alloc(max + 1)), /max_payload/);
  const closing = await natsConnect({ servers: `nats://127.0.0.1:${nats.port}` });
  await closing.close();
  assert.throws(() => publisher.publish(closing, 'plain.a', Buffer.from('x')), /closed/i);
  assert.equal(publisher.counts.fallback, 1);
});
