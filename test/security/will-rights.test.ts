/**
 * Wills are publishes: a client allowed only `alice/#` cannot leave a will (retained or not) on
 * `bob/...` or under `$SYS`, whatever it sets; CONNECT is refused as mosquitto and EMQX refuse it
 * (MQTT 5 CONNACK 0x87, 3.1.1 return code 5), and nothing is published or retained when the
 * socket drops. Rights revoked by a reload after CONNECT hold for the will too.
 */
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/security/password-hash.js';
import { brokerFor, clientId, connect, dropSocket, gather, waitFor, type Broker, type TestContext } from '../interop/harness.js';
import { connectOutcome, subackCodes, tempDir, writeIn } from './helpers.js';

const ACL = 'user alice\ntopic readwrite alice/#\nuser observer\ntopic readwrite #\ntopic read $SYS/#\n';

async function aclBroker(t: TestContext, acl = ACL): Promise<{ broker: Broker; aclPath: string }> {
  const dir = tempDir(t);
  const pw = writeIn(dir, 'pw', `alice:${await hashPassword('alice-pw')}\nobserver:${await hashPassword('obs-pw')}\n`);
  const aclPath = writeIn(dir, 'acl', acl);
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--password-file', pw, '--acl-file', aclPath, '--node-name', 'willnode'] });
  return { broker, aclPath };
}

const alice = { username: 'alice', password: 'alice-pw' };
const observer = { username: 'observer', password: 'obs-pw' };

test("a will outside the client's rights or under $SYS is refused at CONNECT (0x87 / 5) and never published nor retained", async (t) => {
  const { broker } = await aclBroker(t);
  const watcher = await connect(t, broker.url, { ...observer, protocolVersion: 5, clientId: clientId('watch') });
  assert.deepEqual(await subackCodes(watcher, ['bob/#', '$SYS/brokers/#'], 0), [0, 0]);
  const seen = gather(watcher, 1500);
  const topics = ['bob/will', '$SYS/brokers/willnode/clients/alice/disconnected', '$SYS/anything'];
  for (const topic of topics) {
    for (const retain of [true, false]) {
      const will = { topic, payload: Buffer.from('forged'), qos: 1 as const, retain };
      assert.equal(await connectOutcome(broker.url, { ...alice, protocolVersion: 5, will }), 0x87, `5.0 will on ${topic} (retain ${retain})`);
      assert.equal(await connectOutcome(broker.url, { ...alice, protocolVersion: 4, will }), 5, `3.1.1 will on ${topic} (retain ${retain})`);
    }
  }
  assert.deepEqual(
    (await seen).filter((m) => m.payload.toString() === 'forged').map((m) => m.topic),
    [],
    'no forged will reached a subscriber',
  );
  const late = await connect(t, broker.url, { ...observer, protocolVersion: 5, clientId: clientId('late') });
  const retained = gather(late, 800);
  await late.subscribeAsync(['bob/will', '$SYS/brokers/willnode/clients/alice/disconnected'], { qos: 1 });
  assert.deepEqual(
    (await retained).map((m) => m.topic),
    [],
    'nothing retained',
  );
});

test('without an ACL file a will under $SYS is still refused: no client publishes there', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--allow-anonymous', '--node-name', 'willnode'] });
  const will = { topic: '$SYS/brokers/willnode/clients/victim/disconnected', payload: Buffer.from('forged'), qos: 0 as const, retain: true };
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 5, will }), 0x87);
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 4, will }), 5);
});

test('a will whose right a reload revoked is not published when the socket drops', async (t) => {
  const { broker, aclPath } = await aclBroker(t);
  const watcher = await connect(t, broker.url, { ...observer, protocolVersion: 5, clientId: clientId('watch') });
  assert.deepEqual(await subackCodes(watcher, 'alice/#', 0), [0]);
  const dev = await connect(t, broker.url, { ...alice, protocolVersion: 5, clientId: clientId('alice'), will: { topic: 'alice/will', payload: Buffer.from('gone'), qos: 0, retain: true } });
  // alice keeps her login but loses every topic right.
  writeFileSync(aclPath, 'user alice\ntopic read nothing/here\nuser observer\ntopic readwrite #\n');
  const reloads = (): number => broker.logs.filter((l) => l['msg'] === 'reloaded').length;
  broker.process.kill('SIGHUP');
  await waitFor(() => reloads() === 1, 5000, 'the reload');
  const seen = gather(watcher, 1000);
  dropSocket(dev);
  assert.deepEqual(
    (await seen).map((m) => m.topic),
    [],
    'no will on a topic the client may no longer publish to',
  );
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'will not published: the client may no longer publish there'), 3000, 'the log line');
});

test('a delayed will whose right a reload revoked during the delay is not published when due', async (t) => {
  const { broker, aclPath } = await aclBroker(t);
  const watcher = await connect(t, broker.url, { ...observer, protocolVersion: 5, clientId: clientId('watch') });
  assert.deepEqual(await subackCodes(watcher, 'alice/#', 0), [0]);
  const will = { topic: 'alice/will', payload: Buffer.from('late'), qos: 0 as const, retain: false, properties: { willDelayInterval: 2 } };
  const dev = await connect(t, broker.url, { ...alice, protocolVersion: 5, clientId: clientId('alice'), properties: { sessionExpiryInterval: 60 }, will });
  const seen = gather(watcher, 3500);
  dropSocket(dev);
  writeFileSync(aclPath, 'user alice\ntopic read nothing/here\nuser observer\ntopic readwrite #\n');
  broker.process.kill('SIGHUP');
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'reloaded'), 5000, 'the reload');
  assert.deepEqual(
    (await seen).map((m) => m.topic),
    [],
    'the delayed will is dropped when due',
  );
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'will not published: the client may no longer publish there' && l['delayed'] === true), 5000, 'the log line');
});
