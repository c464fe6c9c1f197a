/**
 * Client certificate identity over MQTT/TLS: mosquitto_pub with --cafile/--cert/--key is admitted
 * as the certificate's CN (no password, anonymous refused), and the ACL file applies to that
 * name. Certificates are made with openssl for the test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { run, spawnCommand, startBroker, waitFor, type Broker } from '../interop/harness.js';
import { hashPassword } from '../../src/security/password-hash.js';
import { tempDir, writeIn } from './helpers.js';

const dir = tempDir(null);
let broker: Broker;
let tlsPort = 0;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

before(async () => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeIn(dir, 'san.ext', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'device.key', '-out', 'device.csr', '-subj', '/CN=device-42');
  openssl('x509', '-req', '-in', 'device.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'device.crt', '-days', '2');
  const acl = writeIn(dir, 'acl', 'user device-42\ntopic readwrite devices/device-42/#\n');
  const pw = writeIn(dir, 'pw', `ops:${await hashPassword('ops-pw')}\n`);
  broker = await startBroker({
    args: ['--mqtts-port', '0', '--tls-cert', `${dir}/server.crt`, '--tls-key', `${dir}/server.key`, '--tls-ca', `${dir}/ca.crt`, '--acl-file', acl, '--password-file', pw],
  });
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'listening' && l['transport'] === 'tls'), 3000, 'the TLS listener');
  tlsPort = Number(broker.logs.find((l) => l['msg'] === 'listening' && l['transport'] === 'tls')!['port']);
});
after(() => broker.dispose());

const tlsArgs = (): string[] => ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', `${dir}/ca.crt`];

test('a client certificate is the identity: its CN is the username the ACL sees', async (t) => {
  const sub = spawnCommand(t, 'mosquitto_sub', [...tlsArgs(), '--cert', `${dir}/device.crt`, '--key', `${dir}/device.key`, '-t', 'devices/device-42/cmd', '-C', '1', '-W', '5']);
  await new Promise((r) => setTimeout(r, 400));
  const pub = await run('mosquitto_pub', [...tlsArgs(), '--cert', `${dir}/device.crt`, '--key', `${dir}/device.key`, '-t', 'devices/device-42/cmd', '-m', 'hello device', '-q', '1']);
  assert.equal(pub.code, 0, pub.stderr);
  assert.equal(await sub.exited, 0, sub.output());
  assert.equal(sub.output().trim(), 'hello device');
});

test('the ACL holds the certificate identity to its topics', async () => {
  const denied = await run('mosquitto_sub', [...tlsArgs(), '--cert', `${dir}/device.crt`, '--key', `${dir}/device.key`, '-t', 'devices/device-43/#', '-C', '1', '-W', '2', '-V', 'mqttv5']);
  assert.match(denied.stderr, /All subscription requests were denied/);
  assert.equal(denied.stdout, '', 'nothing received');
});

test('over TLS without a client certificate, the other providers and the anonymous rule apply', async () => {
  const anon = await run('mosquitto_pub', [...tlsArgs(), '-t', 'x', '-m', 'y', '-V', 'mqttv5']);
  assert.notEqual(anon.code, 0, 'anonymous refused');
  const ops = await run('mosquitto_pub', [...tlsArgs(), '-u', 'ops', '-P', 'ops-pw', '-t', 'x', '-m', 'y']);
  assert.equal(ops.code, 0, ops.stderr);
});
