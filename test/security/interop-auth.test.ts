/**
 * Authentication providers against a real broker process: password file (written by
 * `junction passwd`), device keys, JWT and the HTTP hook, chained; refusals as CONNACK codes
 * seen by MQTT.js and mosquitto_pub; refusal log lines without secrets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { connect, repoRoot, run, startBroker, type Broker } from '../interop/harness.js';
import { deviceSignature } from '../../src/security/device-signature.js';
import { connectOutcome, logLine, subackCodes, tempDir, writeIn } from './helpers.js';

const JWT_SECRET = 'interop-jwt-secret-32-bytes-or-more!!';
const dir = tempDir(null);
let broker: Broker;
let hook: http.Server;
let hookRequests: Array<Record<string, unknown>> = [];

/** `junction passwd FILE USER` with the password on stdin. */
function passwd(file: string, user: string, password: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', 'passwd', file, user], { cwd: repoRoot, stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.end(password + '\n');
    child.once('exit', resolve);
  });
}

before(async () => {
  const pwFile = `${dir}/passwords`;
  assert.equal(await passwd(pwFile, 'alice', 'alice-pw'), 0, 'passwd adds alice');
  assert.equal(await passwd(pwFile, 'bob', 'first'), 0);
  assert.equal(await passwd(pwFile, 'bob', 'bob-pw'), 0, 'passwd updates bob');
  const keys = writeIn(
    dir,
    'keys.json',
    JSON.stringify({
      accessKeys: { AK1: 'ak-secret' },
      tokens: { 'tok-rw': { accessKey: 'AK1', actions: 'RW', topics: ['fleet/car-7/#'] } },
    }),
  );
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      const fields = JSON.parse(body) as Record<string, unknown>;
      hookRequests.push(fields);
      if (fields['username'] === 'slow') return void setTimeout(() => res.end('{"result":"allow"}'), 1500);
      if (fields['username'] === 'broken') {
        res.statusCode = 500;
        return void res.end('oops');
      }
      const allow = fields['username'] === 'hook-user' && fields['password'] === 'hook-pass';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(allow ? { result: 'allow', publish: ['hooked/#'], subscribe: ['hooked/#'] } : { result: 'ignore' }));
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/auth`;
  broker = await startBroker({
    args: ['--password-file', pwFile, '--device-keys-file', keys, '--jwt-secret', JWT_SECRET, '--auth-http-url', hookUrl, '--auth-http-timeout', '300'],
  });
});
after(async () => {
  await broker.dispose();
  hook.close();
});

test('passwd wrote salted hashes, never the passwords', () => {
  const text = readFileSync(`${dir}/passwords`, 'utf8');
  assert.match(text, /^alice:\$scrypt\$/m);
  assert.match(text, /^bob:\$scrypt\$/m);
  assert.equal(text.split('\n').filter((l) => l.startsWith('bob:')).length, 1, 'bob updated, not added twice');
  assert.ok(!text.includes('alice-pw') && !text.includes('bob-pw'));
});

test('password file: right password in, wrong one refused 0x86 (5.0) / 4 (3.1.1)', async () => {
  assert.equal(await connectOutcome(broker.url, { username: 'alice', password: 'alice-pw', protocolVersion: 5 }), 0);
  assert.equal(await connectOutcome(broker.url, { username: 'bob', password: 'bob-pw', protocolVersion: 4 }), 0);
  assert.equal(await connectOutcome(broker.url, { username: 'alice', password: 'wrong', protocolVersion: 5 }), 0x86);
  assert.equal(await connectOutcome(broker.url, { username: 'alice', password: 'wrong', protocolVersion: 4 }), 4);
});

test('mosquitto_pub logs in with the password file and is refused with a wrong password', async () => {
  const ok = await run('mosquitto_pub', ['-p', String(broker.port), '-u', 'alice', '-P', 'alice-pw', '-t', 'x', '-m', 'hi']);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await run('mosquitto_pub', ['-p', String(broker.port), '-u', 'alice', '-P', 'nope', '-t', 'x', '-m', 'hi']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /bad user name or password|not authori[sz]ed/i);
});

test('with providers configured, anonymous clients are refused 0x87 (5.0) / 5 (3.1.1)', async () => {
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 5 }), 0x87);
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 4 }), 5);
});

test('refusals are logged with client id and address, and no password reaches the log', async () => {
  await connectOutcome(broker.url, { clientId: 'refused-one', username: 'alice', password: 'leaked-secret-xyz', protocolVersion: 5 });
  const line = await logLine(broker, (l) => l['msg'] === 'connection refused: not authorized' && l['clientId'] === 'refused-one', 'the refusal log line');
  assert.equal(line['address'], '127.0.0.1');
  assert.equal(line['reason'], '0x86');
  assert.ok(!JSON.stringify(broker.logs).includes('leaked-secret-xyz'), 'the password is not in any log line');
});

test('device keys: signature login with HMAC-SHA1 of the client id', async () => {
  const clientId = 'GID_car@@@car-1';
  assert.equal(await connectOutcome(broker.url, { clientId, username: 'Signature|AK1|inst', password: deviceSignature('ak-secret', clientId) }), 0);
  assert.equal(await connectOutcome(broker.url, { clientId, username: 'Signature|AK1|inst', password: deviceSignature('wrong', clientId), protocolVersion: 5 }), 0x86);
});

test("device token: exactly the token's topics, 0x87 elsewhere", async (t) => {
  const c = await connect(t, broker.url, { username: 'Token|AK1|inst', password: 'RW|tok-rw', protocolVersion: 5 });
  assert.deepEqual(await subackCodes(c, 'fleet/car-7/cmd', 1), [1]);
  assert.deepEqual(await subackCodes(c, 'fleet/#', 1), [0x87]);
  await c.publishAsync('fleet/car-7/up', 'ok', { qos: 1 });
  await assert.rejects(c.publishAsync('fleet/car-8/up', 'no', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x87);
});

test('JWT HS256 in the password: valid admits with its topic claims, expired is refused', async (t) => {
  const key = new TextEncoder().encode(JWT_SECRET);
  const token = await new SignJWT({ subscribe: ['jwt/in'], publish: ['jwt/out'] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(key);
  const c = await connect(t, broker.url, { username: 'dev-jwt', password: token, protocolVersion: 5 });
  assert.deepEqual(await subackCodes(c, ['jwt/in', 'jwt/out'], 0), [0, 0x87]);
  const expired = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) - 5)
    .sign(key);
  assert.equal(await connectOutcome(broker.url, { username: 'dev-jwt', password: expired, protocolVersion: 5 }), 0x86);
});

test('HTTP hook: allow admits (with its topics), answers are cached, failures refuse (fail-closed)', async (t) => {
  hookRequests = [];
  const c = await connect(t, broker.url, { clientId: 'hooked-1', username: 'hook-user', password: 'hook-pass', protocolVersion: 5 });
  assert.deepEqual(await subackCodes(c, ['hooked/a', 'other'], 0), [0, 0x87]);
  assert.equal(hookRequests.length, 1);
  assert.equal(hookRequests[0]!['clientid'], 'hooked-1');
  assert.equal(hookRequests[0]!['peerhost'], '127.0.0.1');
  c.end(true);
  assert.equal(await connectOutcome(broker.url, { clientId: 'hooked-1', username: 'hook-user', password: 'hook-pass', protocolVersion: 5 }), 0);
  assert.equal(hookRequests.length, 1, 'the second identical connect was answered from the cache');
  const started = Date.now();
  assert.equal(await connectOutcome(broker.url, { username: 'slow', password: 'x', protocolVersion: 5 }), 0x87, 'timeout refuses');
  assert.ok(Date.now() - started < 1400, 'refused at --auth-http-timeout, not when the hook finally answered');
  assert.equal(await connectOutcome(broker.url, { username: 'broken', password: 'x', protocolVersion: 4 }), 5, 'HTTP 500 refuses');
  assert.equal(await connectOutcome(broker.url, { username: 'nobody', password: 'x', protocolVersion: 5 }), 0x86, 'every provider passed: bad credentials');
});
