/**
 * Revoked read rights end stored subscriptions too: an ACL line removed while a persistent
 * session is offline (then a restart or a reload) drops its subscription, so nothing more is
 * queued or delivered there; a session resumed by a client with other rights keeps only the
 * subscriptions that client may hold. What is still allowed keeps delivering.
 */
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/security/password-hash.js';
import { brokerFor, clientId, connect, connectCollecting, waitFor, type Broker, type TestContext } from '../interop/harness.js';
import { subackCodes, tempDir, writeIn } from './helpers.js';

const BEFORE = 'user alice\ntopic readwrite alice/#\nuser bob\ntopic readwrite bob/#\nuser observer\ntopic readwrite #\n';
/** alice loses alice/secret/#. */
const AFTER = 'user alice\ntopic readwrite alice/public/#\nuser bob\ntopic readwrite bob/#\nuser observer\ntopic readwrite #\n';
const alice = { username: 'alice', password: 'alice-pw' };
const persistent = { clean: false, properties: { sessionExpiryInterval: 3600 } } as const;

async function aclBroker(t: TestContext, extra: string[] = []): Promise<{ broker: Broker; acl: string }> {
  const dir = tempDir(t);
  const users = ['alice', 'bob', 'observer'].map(async (u) => `${u}:${await hashPassword(`${u}-pw`)}`);
  const pw = writeIn(dir, 'pw', (await Promise.all(users)).join('\n') + '\n');
  const acl = writeIn(dir, 'acl', BEFORE);
  return { broker: await brokerFor(t, { args: ['--password-file', pw, '--acl-file', acl, ...extra] }), acl };
}

/** alice's persistent session with two subscriptions, offline. */
async function aliceOffline(t: TestContext, broker: Broker, id: string): Promise<void> {
  const a = await connect(t, broker.url, { ...alice, ...persistent, protocolVersion: 5, clientId: id });
  assert.deepEqual(await subackCodes(a, ['alice/secret/#', 'alice/public/#'], 1), [1, 1]);
  await a.endAsync();
}

/** Publishes to both topics as the observer; alice comes back and must get only the public one. */
async function onlyPublicArrives(t: TestContext, broker: Broker, id: string): Promise<void> {
  const pub = await connect(t, broker.url, { username: 'observer', password: 'observer-pw', protocolVersion: 5 });
  await pub.publishAsync('alice/secret/x', 'secret', { qos: 1 });
  await pub.publishAsync('alice/public/x', 'public', { qos: 1 });
  // The secret message was queued first, so a subscription that still delivered would show it first.
  const back = await connectCollecting(t, broker.url, { ...alice, ...persistent, protocolVersion: 5, clientId: id }, 1, 10_000);
  assert.equal(back.connack.sessionPresent, true);
  assert.deepEqual(
    (await back.received).map((m) => m.payload.toString()),
    ['public'],
    'the revoked subscription delivers nothing, the allowed one still does',
  );
}

test('a read line removed while the session is offline, then a restart: the stored subscription is dropped', async (t) => {
  const { broker, acl } = await aclBroker(t);
  const id = clientId('alice');
  await aliceOffline(t, broker, id);
  await broker.stop();
  writeFileSync(acl, AFTER);
  await broker.restart();
  const line = broker.logs.find((l) => l['msg'] === 'stored subscriptions dropped at start: the rules no longer allow them' && l['clientId'] === id);
  assert.deepEqual(line?.['filters'], ['alice/secret/#']);
  await onlyPublicArrives(t, broker, id);
});

test('a read line removed by a reload: offline sessions lose the subscription too', async (t) => {
  const { broker, acl } = await aclBroker(t);
  const id = clientId('alice');
  await aliceOffline(t, broker, id);
  writeFileSync(acl, AFTER);
  broker.process.kill('SIGHUP');
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'reloaded'), 5000, 'the reload');
  const reloaded = broker.logs.find((l) => l['msg'] === 'reloaded')!;
  assert.equal(reloaded['subscriptionsRevoked'], 1);
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'subscriptions revoked by reload' && l['clientId'] === id && l['offline'] === true), 5000, 'the log line');
  await onlyPublicArrives(t, broker, id);
});

test("a session resumed by a client with other rights keeps only what that client may hold (bob on alice's, --allow-identity-takeover)", async (t) => {
  const { broker } = await aclBroker(t, ['--allow-identity-takeover']);
  const id = clientId('shared');
  await aliceOffline(t, broker, id);
  const bob = await connectCollecting(t, broker.url, { username: 'bob', password: 'bob-pw', ...persistent, protocolVersion: 5, clientId: id }, 1, 10_000);
  assert.equal(bob.connack.sessionPresent, true);
  assert.deepEqual(await subackCodes(bob.client, ['bob/inbox'], 1), [1]);
  const pub = await connect(t, broker.url, { username: 'observer', password: 'observer-pw', protocolVersion: 5 });
  await pub.publishAsync('alice/public/x', 'for alice', { qos: 1 });
  // Sent after alice's topic: bob's own message arriving first means alice's was not delivered to him.
  await pub.publishAsync('bob/inbox', 'for bob', { qos: 1 });
  assert.deepEqual(
    (await bob.received).map((m) => m.topic),
    ['bob/inbox'],
    "bob receives nothing through alice's subscriptions",
  );
  const line = broker.logs.find((l) => l['msg'] === 'stored subscriptions dropped at resume: the client may no longer subscribe to them' && l['clientId'] === id);
  assert.deepEqual(line?.['filters'], ['alice/secret/#', 'alice/public/#']);
});
