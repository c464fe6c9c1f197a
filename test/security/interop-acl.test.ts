/**
 * ACL file and point-to-point against a real broker: each rule type seen by MQTT.js 5.0 and
 * 3.1.1 and by mosquitto_pub/sub; denied publishes acked 0x87 (5.0) or dropped (3.1.1); $SYS only
 * where granted; {parent}/p2p/{clientId} reaches that client alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/security/password-hash.js';
import { clientId, collect, connect, gather, run, spawnCommand, startBroker, waitFor, type Broker } from '../interop/harness.js';
import { subackCodes, tempDir, writeIn } from './helpers.js';

const ACL = `
topic read public/#
topic write app/p2p/#

user alice
topic readwrite home/#
topic deny home/secret
topic read $SYS/#
topic write app/p2p/#

user bob
topic read home/#

pattern write devices/%c/up
pattern read devices/%u/down/#
`;

const dir = tempDir(null);
let broker: Broker;
const alice = { username: 'alice', password: 'alice-pw' };
const bob = { username: 'bob', password: 'bob-pw' };

before(async () => {
  const pw = writeIn(dir, 'pw', `alice:${await hashPassword('alice-pw')}\nbob:${await hashPassword('bob-pw')}\n`);
  const acl = writeIn(dir, 'acl', ACL);
  broker = await startBroker({ args: ['--password-file', pw, '--acl-file', acl, '--allow-anonymous', '--p2p-parent', 'app', '--node-name', 'acl-node'] });
});
after(() => broker.dispose());

test('readwrite and read: allowed publishes reach allowed subscribers', async (t) => {
  const sub = await connect(t, broker.url, { ...bob, protocolVersion: 5 });
  assert.deepEqual(await subackCodes(sub, 'home/+/temp', 1), [1]);
  const got = collect(sub, 1);
  const pub = await connect(t, broker.url, { ...alice, protocolVersion: 5 });
  await pub.publishAsync('home/kitchen/temp', '21', { qos: 1 });
  assert.equal((await got)[0]!.payload.toString(), '21');
});

test('denied publish: PUBACK 0x87 in 5.0, silently dropped in 3.1.1, nothing delivered', async (t) => {
  const watcher = await connect(t, broker.url, { ...alice, protocolVersion: 5 });
  assert.deepEqual(await subackCodes(watcher, 'home/+/bobs', 0), [0]);
  const seen = gather(watcher, 800);
  const bob5 = await connect(t, broker.url, { ...bob, protocolVersion: 5 });
  await assert.rejects(bob5.publishAsync('home/x/bobs', 'no', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87, 'read-only user cannot publish');
  const bob4 = await connect(t, broker.url, { ...bob, protocolVersion: 4 });
  await bob4.publishAsync('home/y/bobs', 'no', { qos: 1 });
  assert.equal(bob4.connected, true, '3.1.1 connection stays up');
  assert.deepEqual(
    (await seen).map((m) => m.topic),
    [],
  );
});

test('deny rule: a topic and any subscription overlapping it are refused (0x87 / 0x80)', async (t) => {
  const a5 = await connect(t, broker.url, { ...alice, protocolVersion: 5 });
  await assert.rejects(a5.publishAsync('home/secret', 'x', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87);
  assert.deepEqual(await subackCodes(a5, ['home/secret', 'home/#', 'home/a/b'], 0), [0x87, 0x87, 0]);
  const a4 = await connect(t, broker.url, { ...alice, protocolVersion: 4 });
  assert.deepEqual(await subackCodes(a4, ['home/secret', 'home/a/b'], 0), [0x80, 0]);
});

test('anonymous clients get the rules before the first user line', async (t) => {
  const anon = await connect(t, broker.url, { protocolVersion: 5 });
  assert.deepEqual(await subackCodes(anon, ['public/news', 'home/a/b'], 0), [0, 0x87]);
});

test('pattern rules with %c and %u', async (t) => {
  const id = clientId('dev');
  const dev = await connect(t, broker.url, { ...bob, clientId: id, protocolVersion: 5 });
  await dev.publishAsync(`devices/${id}/up`, 'own', { qos: 1 });
  await assert.rejects(dev.publishAsync('devices/other/up', 'x', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87);
  assert.deepEqual(await subackCodes(dev, ['devices/bob/down/#', 'devices/alice/down/#'], 0), [0, 0x87]);
});

test('$SYS only where granted: alice reads connect events, bob may not subscribe', async (t) => {
  const b = await connect(t, broker.url, { ...bob, protocolVersion: 5 });
  assert.deepEqual(await subackCodes(b, '$SYS/#', 0), [0x87]);
  const a = await connect(t, broker.url, { ...alice, protocolVersion: 5 });
  assert.deepEqual(await subackCodes(a, '$SYS/brokers/+/clients/+/connected', 0), [0]);
  const got = collect(a, 1);
  const id = clientId('sys');
  await connect(t, broker.url, { ...bob, clientId: id });
  const [m] = await got;
  assert.equal(m!.topic, `$SYS/brokers/acl-node/clients/${id}/connected`);
  await assert.rejects(a.publishAsync('$SYS/brokers/acl-node/clients/x/connected', '{}', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87, 'events cannot be forged');
});

test('mosquitto_sub and mosquitto_pub with -u/-P follow the ACL', async (t) => {
  const port = String(broker.port);
  const sub = spawnCommand(t, 'mosquitto_sub', ['-p', port, '-u', 'bob', '-P', 'bob-pw', '-t', 'home/garden/#', '-C', '1', '-W', '5', '-v']);
  await new Promise((r) => setTimeout(r, 300));
  const denied = await run('mosquitto_pub', ['-p', port, '-u', 'bob', '-P', 'bob-pw', '-t', 'home/garden/x', '-m', 'from-bob', '-q', '1']);
  assert.equal(denied.code, 0, '3.1.1 publish is dropped without an error');
  const ok = await run('mosquitto_pub', ['-p', port, '-u', 'alice', '-P', 'alice-pw', '-t', 'home/garden/x', '-m', 'from-alice', '-q', '1']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await sub.exited, 0);
  assert.equal(sub.output().trim(), 'home/garden/x from-alice');
});

test('point-to-point: app/p2p/{clientId} reaches that client alone, without a subscription', async (t) => {
  const targetId = clientId('p2p');
  const target = await connect(t, broker.url, { ...bob, clientId: targetId, protocolVersion: 5 });
  const other = await connect(t, broker.url, { ...alice, protocolVersion: 5 });
  const received = collect(target, 1);
  const elsewhere = gather(other, 600);
  const sender = await connect(t, broker.url, { ...alice, protocolVersion: 5 });
  await sender.publishAsync(`app/p2p/${targetId}`, 'just for you', { qos: 1 });
  const [m] = await received;
  assert.equal(m!.topic, `app/p2p/${targetId}`);
  assert.equal(m!.payload.toString(), 'just for you');
  assert.deepEqual(await elsewhere, [], 'nobody else gets it');
  await assert.rejects(target.publishAsync(`app/p2p/${targetId}`, 'x', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87, 'bob may not write app/p2p/#');
  await waitFor(() => target.connected, 100, 'target still connected');
});
