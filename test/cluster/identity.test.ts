/**
 * A session belongs to the identity that created it across the cluster too: bob using alice's
 * client id on another node is refused (MQTT 5 CONNACK 0x85, STOMP ERROR) and alice's connection
 * and session stay where they are; alice herself moves her session between nodes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashPassword } from '../../src/security/password-hash.js';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { clientId, collect, connect, type Broker } from '../interop/harness.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { connectOutcome, writeIn } from '../security/helpers.js';
import { awaitRoute, clusterNode, natsUrls, waitForLog } from './helpers.js';

let nats: ServiceProcess;
let a: Broker;
let b: Broker;
let dir: string;
const alice = { username: 'alice', password: 'alice-pw' };
const bob = { username: 'bob', password: 'bob-pw' };

before(async () => {
  nats = await ServiceProcess.nats();
  dir = mkdtempSync(path.join(os.tmpdir(), 'junction-cluster-id-'));
  const pw = writeIn(dir, 'pw', `alice:${await hashPassword('alice-pw')}\nbob:${await hashPassword('bob-pw')}\n`);
  const acl = writeIn(dir, 'acl', 'user alice\ntopic readwrite alice/#\nuser bob\ntopic readwrite bob/#\n');
  const args = ['--store', 'memory', '--password-file', pw, '--acl-file', acl, '--stomp-port', '0'];
  [a, b] = await Promise.all([clusterNode('id-a', natsUrls([nats]), args), clusterNode('id-b', natsUrls([nats]), args)]);
});

after(async () => {
  await Promise.all([a?.dispose(), b?.dispose()]);
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("another identity cannot take alice's session from another node (0x85, STOMP ERROR); alice can", async (t) => {
  const id = clientId('alice');
  const persistent = { ...alice, protocolVersion: 5 as const, clean: false, clientId: id, properties: { sessionExpiryInterval: 600 } };
  const onA = await connect(t, a.url, persistent);
  await onA.subscribeAsync('alice/in', { qos: 1 });
  // Her record (with the identity) is written just after her CONNACK.
  await new Promise((resolve) => setTimeout(resolve, 500));

  assert.equal(await connectOutcome(b.url, { ...bob, protocolVersion: 5, clean: false, clientId: id }), 0x85);
  const stompPort = b.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp')!['port'] as number;
  const stomp = await RawStomp.open(t, stompPort);
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', 'heart-beat': '0,0', login: 'bob', passcode: 'bob-pw', 'client-id': id }));
  assert.equal((await stomp.next()).command, 'ERROR');
  await waitForLog(b, (l) => l['msg'] === 'connection refused: the client id belongs to the session of another identity on another node' && l['clientId'] === id, 'the refusal on node B');

  // Alice's connection on A was not touched and still gets her messages.
  assert.equal(onA.connected, true);
  const pub = await connect(t, b.url, { ...alice, protocolVersion: 5 });
  await awaitRoute(pub, onA, 'alice/in');
  const got = collect(onA, 1, 3000, 'her message on node A');
  await pub.publishAsync('alice/in', 'still hers', { qos: 1 });
  assert.equal((await got)[0]!.payload.toString(), 'still hers');

  // Alice herself takes it to node B.
  let reason = -1;
  onA.on('disconnect', (p) => {
    reason = p.reasonCode ?? -1;
  });
  const onB = await connect(t, b.url, persistent);
  assert.ok(onB.connected);
  await waitForLog(b, (l) => l['msg'] === 'cluster session moved here' && l['clientId'] === id, 'her session moved to node B');
  assert.equal(reason, 0x8e);
});
