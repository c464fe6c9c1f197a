/** The `junction` command: --version, --help, refused values, config file, SIGTERM, anonymous default. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brokerFor, junctionOnly, rawClient, repoRoot, runBroker, target } from './harness.js';
import { PacketType, Prop, connectPacket, parseConnack, parseDisconnect, prop } from './wire.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('--version prints the package version and exits 0', async (t) => {
  if (junctionOnly(t, 'Junction CLI')) return;
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const r = await runBroker(['--version']);
  assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stdout, new RegExp(pkg.version.replace(/\./g, '\\.')));
});

test('--help lists the start flags and exits 0', async (t) => {
  if (junctionOnly(t, 'Junction CLI')) return;
  const r = await runBroker(['start', '--help']);
  assert.equal(r.code, 0, `exit code (stderr: ${r.stderr})`);
  for (const flag of ['host', 'mqtt-port', 'data-dir', 'max-packet-size', 'receive-maximum', 'max-queued-messages', 'max-keepalive', 'connect-timeout', 'config', 'allow-anonymous']) {
    // Booleans may be documented as --[no-]flag.
    assert.match(r.stdout, new RegExp(`--(\\[no-\\])?${flag}\\b`), `help mentions --${flag}`);
  }
});

const invalid: Array<[string, string]> = [
  ['--mqtt-port', '70000'],
  ['--max-packet-size', '0'],
  ['--receive-maximum', '0'],
  ['--max-keepalive', 'abc'],
  ['--connect-timeout', '-5'],
  ['--max-connections', '1.5'],
  ['--store', 'postgres'],
  ['--log-level', 'loud'],
  ['--topic-alias-maximum', '70000'],
];

for (const [flag, value] of invalid) {
  test(`${flag} ${value} is refused with exit code 2 naming the flag`, async (t) => {
    if (junctionOnly(t, 'Junction CLI')) return;
    const dir = tempDir(t);
    const r = await runBroker(['start', '--mqtt-port', '0', '--data-dir', dir, flag, value], 8000);
    assert.equal(r.timedOut, false, 'the process exits instead of starting');
    assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
    assert.ok(r.stderr.includes(flag), `stderr names ${flag}: ${r.stderr}`);
  });
}

test('config file values apply and command-line flags override them', async (t) => {
  if (junctionOnly(t, '--config is a Junction flag')) return;
  const dir = tempDir(t);
  const file = path.join(dir, 'junction.json');
  writeFileSync(file, JSON.stringify({ 'max-keepalive': 10, 'topic-alias-maximum': 7, 'receive-maximum': 9 }));
  const b = await brokerFor(t, { args: ['--config', file, '--topic-alias-maximum', '3'] });
  const raw = await rawClient(t, b.port, 5);
  const c = await raw.handshake({ keepalive: 60 });
  assert.equal(prop(c.props, Prop.ServerKeepAlive), 10, 'max-keepalive from the file');
  assert.equal(prop(c.props, Prop.ReceiveMaximum), 9, 'receive-maximum from the file');
  assert.equal(prop(c.props, Prop.TopicAliasMaximum), 3, 'the flag overrides the file');
});

test('SIGTERM sends 5.0 clients DISCONNECT 0x8B and exits 0 within 5 s', async (t) => {
  const b = await brokerFor(t);
  const v5 = await rawClient(t, b.port, 5);
  await v5.handshake();
  const v4 = await rawClient(t, b.port, 4);
  await v4.handshake();
  const started = Date.now();
  const code = await b.stop('SIGTERM');
  const elapsed = Date.now() - started;
  assert.equal(code, 0, 'exit code 0');
  assert.ok(elapsed < 5000, `exited after ${elapsed} ms`);
  const rest = await v5.expectClose(1000);
  const d = rest.find((p) => p.type === PacketType.DISCONNECT);
  // mosquitto 2.0.11 closes without a DISCONNECT on SIGTERM (docs/CONFORMANCE.md).
  if (d !== undefined || target !== 'mosquitto') {
    assert.ok(d, 'the 5.0 client got a DISCONNECT');
    assert.equal(parseDisconnect(d).reason, 0x8b, 'Server shutting down');
  }
  const rest4 = await v4.expectClose(1000);
  assert.ok(!rest4.some((p) => p.type === PacketType.DISCONNECT), 'no DISCONNECT sent to a 3.1.1 client');
});

test('listening on 0.0.0.0 without --allow-anonymous refuses anonymous clients (0x87 / rc 5)', async (t) => {
  const b = await brokerFor(t, { args: ['--host', '0.0.0.0'] });
  const v5 = await rawClient(t, b.port, 5);
  v5.send(connectPacket({ version: 5, clientId: 'anon5' }));
  const c5 = parseConnack(await v5.next(PacketType.CONNACK), 5);
  assert.equal(c5.code, 0x87, `5.0 CONNACK 0x87 Not authorized, got 0x${c5.code.toString(16)}`);
  await v5.expectClose();
  const v4 = await rawClient(t, b.port, 4);
  v4.send(connectPacket({ version: 4, clientId: 'anon4' }));
  const c4 = parseConnack(await v4.next(PacketType.CONNACK), 4);
  assert.equal(c4.code, 5, `3.1.1 CONNACK rc 5 not authorized, got ${c4.code}`);
});

test('listening on 0.0.0.0 with --allow-anonymous accepts anonymous clients', async (t) => {
  const b = await brokerFor(t, { args: ['--host', '0.0.0.0', '--allow-anonymous'] });
  const raw = await rawClient(t, b.port, 5);
  await raw.handshake();
});
