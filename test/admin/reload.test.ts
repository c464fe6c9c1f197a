/**
 * Reload applied to live clients, by SIGHUP and by POST /api/v1/reload: removed or changed
 * credentials disconnect their clients (MQTT 5 DISCONNECT 0x98, STOMP closed), a revoked
 * subscription stops delivering, a broken file changes nothing, the log level and JWT key follow
 * the config file, and flags that cannot change are named.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import type { IDisconnectPacket } from 'mqtt';
import { hashPassword } from '../../src/security/password-hash.js';
import { collect, connect, gather, waitFor } from '../interop/harness.js';
import { adminBroker, fields, stompLogin, type AdminBroker } from './admin-broker.js';

const ACL = `user alice
topic readwrite alerts/#
topic read news/#
user bob
topic readwrite bob/#
user dave
topic readwrite dave/#
`;

async function passwords(users: Record<string, string>): Promise<string> {
  let text = '';
  for (const [user, password] of Object.entries(users)) text += `${user}:${await hashPassword(password)}\n`;
  return text;
}

function subscribe(client: Awaited<ReturnType<typeof connect>>, filter: string): Promise<void> {
  return new Promise((resolve, reject) => client.subscribe(filter, { qos: 0 }, (err) => (err ? reject(err) : resolve())));
}

/** Waits for the broker's n-th "reloaded" (or "reload incomplete") line and returns it. */
async function reloadLine(a: AdminBroker, n: number): Promise<Record<string, unknown>> {
  const lines = (): Array<Record<string, unknown>> => a.broker.logs.filter((l) => l['msg'] === 'reloaded' || String(l['msg']).startsWith('reload incomplete'));
  await waitFor(() => lines().length >= n, 5000, `reload #${n} in the log`);
  return lines()[n - 1]!;
}

test('SIGHUP: removed and changed passwords disconnect their clients on every protocol, a removed ACL line stops a live subscription', async (t) => {
  const files = { passwd: await passwords({ alice: 'a-pass', bob: 'b-pass', carol: 'c-pass', dave: 'd-pass' }), acl: ACL };
  const a = await adminBroker(t, ['--password-file', '$DIR/passwd', '--acl-file', '$DIR/acl', '--stomp-port', '0'], files);
  const url = a.broker.url;
  const alice = await connect(t, url, { clientId: 'alice-1', username: 'alice', password: 'a-pass', protocolVersion: 5 });
  await subscribe(alice, 'news/#');
  await subscribe(alice, 'alerts/#');
  const bob = await connect(t, url, { clientId: 'bob-1', username: 'bob', password: 'b-pass', protocolVersion: 5 });
  const bobGone = new Promise<IDisconnectPacket>((resolve) => bob.once('disconnect', resolve));
  const carol = await connect(t, url, { clientId: 'carol-1', username: 'carol', password: 'c-pass', protocolVersion: 4 });
  const carolGone = new Promise<void>((resolve) => carol.once('close', () => resolve()));
  const dave = await stompLogin(t, a.broker.listeningPort('stomp'), 'dave', 'd-pass');

  // Before: alice gets news.
  const first = collect(alice, 1);
  await a.api('POST', '/api/v1/publish', { topic: 'news/today', payload: 'one' });
  assert.equal((await first)[0]!.payload.toString(), 'one');

  // bob and dave removed, carol's password changed, alice loses news/#.
  const aliceLine = files.passwd.split('\n').find((l) => l.startsWith('alice:'))!;
  writeFileSync(path.join(a.dir, 'passwd'), `${aliceLine}\n${await passwords({ carol: 'c-new' })}`);
  writeFileSync(path.join(a.dir, 'acl'), ACL.replace('topic read news/#\n', ''));
  a.broker.process.kill('SIGHUP');
  const line = await reloadLine(a, 1);
  assert.equal(line['trigger'], 'SIGHUP');
  assert.equal(line['disconnected'], 3);
  assert.equal(line['subscriptionsRevoked'], 1);
  assert.match(String(line['changed']), /password-file: 2 identities \(0 added, 2 removed, 1 changed\)/);
  assert.equal((await bobGone).reasonCode, 0x98);
  await carolGone;
  await dave.closed;
  const why = a.broker.logs.filter((l) => l['msg'] === 'client disconnected by reload').map((l) => [l['clientId'], l['reason']]);
  assert.deepEqual(
    why.sort(),
    [
      ['bob-1', 'password-file: the credentials of "bob" were removed'],
      ['carol-1', 'password-file: the credentials of "carol" changed'],
      ['dave', 'password-file: the credentials of "dave" were removed'],
    ].sort(),
  );
  const revoked = a.broker.logs.find((l) => l['msg'] === 'subscriptions revoked by reload');
  assert.deepEqual(revoked?.['filters'], ['news/#']);

  // alice stays, keeps alerts/#, and no longer gets news.
  assert.ok(alice.connected);
  const after = gather(alice, 500);
  await a.api('POST', '/api/v1/publish', { topic: 'news/today', payload: 'two' });
  await a.api('POST', '/api/v1/publish', { topic: 'alerts/fire', payload: 'three' });
  assert.deepEqual(
    (await after).map((m) => m.payload.toString()),
    ['three'],
  );
  const detail = fields(await a.api('GET', '/api/v1/clients/alice-1'));
  assert.deepEqual(detail['subscriptionList'], [{ filter: 'alerts/#', qos: 0 }]);
  // New subscriptions meet the new rules (no stale cached decision).
  const refused = await new Promise<Error | null>((resolve) => alice.subscribe('news/+', { qos: 0 }, (err) => resolve(err ?? null)));
  assert.match(String(refused?.message), /Not authorized/);
  await assert.rejects(connect(null, url, { clientId: 'bob-2', username: 'bob', password: 'b-pass', protocolVersion: 5 }), /Bad User Name or Password|134/i);
  await connect(t, url, { clientId: 'carol-2', username: 'carol', password: 'c-new', protocolVersion: 5 });
});

test('POST /reload with a broken file changes nothing; the config file sets the log level and the JWT key; fixed flags are named', async (t) => {
  const secret1 = 'first-secret-of-at-least-32-bytes!!';
  const secret2 = 'second-secret-of-at-least-32-bytes!';
  const config = (level: string, secret: string, inflight: number): string => JSON.stringify({ 'log-level': level, 'jwt-secret': secret, 'max-inflight': inflight });
  const files = { passwd: await passwords({ alice: 'a-pass' }), acl: ACL, 'config.json': config('info', secret1, 32) };
  const a = await adminBroker(t, ['--config', '$DIR/config.json', '--password-file', '$DIR/passwd', '--acl-file', '$DIR/acl'], files);
  const url = a.broker.url;
  const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('tok').setExpirationTime('1h').sign(new TextEncoder().encode(secret1));
  // A username the password file does not know, so the JWT provider decides.
  const tokenClient = await connect(t, url, { clientId: 'jwt-1', username: 'tok', password: jwt, protocolVersion: 5 });
  const tokenGone = new Promise<IDisconnectPacket>((resolve) => tokenClient.once('disconnect', resolve));
  const alice = await connect(t, url, { clientId: 'alice-1', username: 'alice', password: 'a-pass', protocolVersion: 5 });
  await subscribe(alice, 'alerts/#');

  writeFileSync(path.join(a.dir, 'acl'), 'user alice\ntopic readwrite\n');
  const broken = fields(await a.api('POST', '/api/v1/reload'));
  assert.equal(broken['ok'], false);
  const security = (broken['parts'] as Array<Record<string, unknown>>).find((p) => p['part'] === 'security')!;
  assert.equal(security['ok'], false);
  assert.match(String(security['detail']), /acl line 2: the rule has no topic; the old files stay in use/);
  // The log line comes over the broker's stdout, which may arrive after the API's answer.
  await waitFor(() => a.broker.logs.some((l) => l['msg'] === 'reload incomplete: the parts that failed keep their old configuration'), 3000, 'the reload-incomplete log line');
  const still = collect(alice, 1);
  await a.api('POST', '/api/v1/publish', { topic: 'alerts/a', payload: 'old rules' });
  assert.equal((await still)[0]!.payload.toString(), 'old rules');
  assert.ok(tokenClient.connected);

  writeFileSync(path.join(a.dir, 'acl'), ACL);
  writeFileSync(path.join(a.dir, 'config.json'), config('debug', secret2, 64));
  const fixed = fields(await a.api('POST', '/api/v1/reload'));
  assert.equal(fixed['ok'], true, JSON.stringify(fixed));
  assert.deepEqual(fixed['needsRestart'], ['--max-inflight']);
  assert.equal(fixed['disconnected'], 1);
  const parts = new Map((fixed['parts'] as Array<Record<string, unknown>>).map((p) => [p['part'], p['detail']]));
  assert.equal(parts.get('log-level'), 'info -> debug');
  assert.match(String(parts.get('security')), /jwt: the key changed/);
  assert.equal((await tokenGone).reasonCode, 0x98);
  assert.ok(alice.connected, 'a password-file client is not touched by a new JWT key');
  await waitFor(() => a.broker.logs.some((l) => l['level'] === 'debug'), 3000, 'a debug line after the level changed');
  assert.ok(!JSON.stringify(a.broker.logs).includes(secret2), 'the new secret is never logged');
  const jwt2 = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('tok').setExpirationTime('1h').sign(new TextEncoder().encode(secret2));
  await connect(t, url, { clientId: 'jwt-2', username: 'tok', password: jwt2, protocolVersion: 5 });
});
