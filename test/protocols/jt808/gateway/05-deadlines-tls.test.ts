/** Per-terminal deadlines (authentication and heartbeat timeouts) and the TLS listener. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collect, connect, subscribeCodes } from '../../../interop/harness.js';
import { jt808Broker, jt808Port, onlineTerminal } from '../helpers.js';
import { Terminal } from '../../../../bench/lib/jt808-terminal.js';

test('a connection that does not authenticate within --jt808-auth-timeout is closed', async (t) => {
  const { port } = await jt808Broker(t, ['--jt808-auth-timeout', '1']);
  const term = await Terminal.connect(port, '013600000001');
  t.after(() => term.close());
  await term.waitClosed(3000);
});

test('a terminal silent for --jt808-heartbeat-timeout is closed and reported offline with keepalive-timeout', async (t) => {
  const { broker, port } = await jt808Broker(t, ['--jt808-heartbeat-timeout', '1']);
  const backend = await connect(t, broker.url);
  const p = '013600000002';
  await subscribeCodes(backend, `$SYS/brokers/+/clients/${p}/disconnected`);
  const offline = collect(backend, 1, 4000, 'disconnected event');
  const term = await onlineTerminal(t, port, p);
  await term.waitClosed(3000);
  const event = JSON.parse((await offline)[0]!.payload.toString()) as Record<string, unknown>;
  assert.equal(event['reason'], 'keepalive-timeout');
});

test('JT/T 808 over TLS with --jt808-tls-port and the server certificate', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jt808-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const { broker } = await jt808Broker(t, ['--jt808-tls-port', '0', '--tls-cert', cert, '--tls-key', key]);
  const term = await Terminal.connectTls(await jt808Port(broker, 'tls'), '013600000003', true);
  t.after(() => term.close());
  await term.login();
  const sn = term.send(0x0002);
  assert.equal(await term.response(0x0002, sn), 0);
});
